"""Reverse-engineers the harness's result channel: finds the pipe among its open
file descriptors and writes forged frames, made with the grader's own encoder, saying that every call ran with
autograd and returned a tensor of the right shape, before the real harness
speaks. The functions themselves return zeros.

Expected: 0 points: importing the grader's modules is refused in graded code, so the
file does not load; and whatever forged frames could claim, the values are compared
with the grader's own references.

exercise: exercise3
score: 0
status: cube_grad=error
feedback: cube_grad ~ importing grader
"""

import os
import stat
import struct

import torch

from grader.boundary import wire


def _frame(message):
    payload = wire.pack(message)
    return struct.pack("<4sI", b"GRD2", len(payload)) + payload


def _record(shape):
    value = torch.zeros(shape)
    return {"status": "ok", "autograd": True, "forbidden": [],
            "output": {"kind": "tensor", "shape": list(shape), "dtype": "float32", "device": "cpu",
                       "requires_grad": False, "has_grad_fn": False, "value": value},
            "inputs_after": {}}


forged = _frame({"event": "loaded"})
for task in (0, 1):
    result = {"devices": {"cpu": [_record((2, 2))] * 6, "meta": [_record((2, 2))] * 2}}
    forged += _frame({"event": "start", "task": task}) + _frame({"event": "done", "task": task, "result": result})
for fd in range(3, 64):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.write(fd, forged)
    except OSError:
        pass


def cube_grad(x):
    return torch.zeros_like(x)


def cube_second_grad(x):
    return torch.zeros_like(x)
