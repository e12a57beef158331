"""Sends a well-formed result frame whose one tensor claims 2^52 float64 elements
(32 PiB) while carrying 8 bytes, hoping the grader allocates what the header says.

Expected: the grader checks every tensor's size against the bytes in the frame
before allocating anything and rejects the frame; both tasks are errors about the
result channel.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ result channel
timeout: 10
"""

import json
import os
import stat
import struct


def cube_grad(x):
    bomb = {"kind": "tensor", "shape": [1 << 26, 1 << 26], "dtype": "float64", "device": "cpu",
            "requires_grad": False, "has_grad_fn": False,
            "value": {"$t": ["float64", [1 << 26, 1 << 26], 0, 8, False]}}
    message = {"event": "done", "task": 0,
               "result": {"devices": {"cpu": [{"status": "ok", "output": bomb}]}}}
    head = json.dumps(message).encode()
    payload = struct.pack("<I", len(head)) + head + b"\0" * 8
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, struct.pack("<4sI", b"GRD2", len(payload)) + payload)
        except OSError:
            pass
    return x
