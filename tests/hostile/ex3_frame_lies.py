"""Writes result frames of its own that the grader's encoder could never make.
cube_grad sends a "done" frame of legal size whose 60 tensor entries all point at
the same 8 MiB of bytes (a grader that copied each entry would hold 480 MiB);
cube_second_grad sends one whose result claims a shape that is text.

Expected: each frame is refused at the boundary before anything is copied:
tensor entries must be disjoint and in order, every field has its exact type.
Both tasks are errors that say what was wrong with the message; no points.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ overlap
feedback: cube_second_grad ~ shape
cli: yes
"""

import json
import os
import stat
import struct


def _send(message, raw=b""):
    head = json.dumps(message).encode()
    payload = struct.pack("<I", len(head)) + head + raw
    frame = struct.pack("<4sI", b"GRD2", len(payload)) + payload
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                view = memoryview(frame)
                while view:
                    view = view[os.write(fd, view):]
        except OSError:
            pass


def _record(value):
    return {"status": "ok", "autograd": True, "forbidden": [], "inputs_after": {},
            "output": {"kind": "tensor", "shape": [2, 2], "dtype": "float32", "device": "cpu",
                       "requires_grad": False, "has_grad_fn": False, "value": value}}


def cube_grad(x):
    size = 8 << 20
    alias = {"$t": ["float32", [size // 4], 0, size, False]}
    _send({"event": "done", "task": 0, "result": {"devices": {"cpu": [_record(alias)] * 60}}}, bytes(size))
    return x


def cube_second_grad(x):
    record = _record(None)
    record["output"]["shape"] = "2x2"
    _send({"event": "done", "task": 1, "result": {"devices": {"cpu": [record] * 6}}})
    return x
