"""Forges the harness's result frames without importing the grader: loads the source of
grader/boundary/wire.py into a namespace of its own, collects every case's input, and at the last
call of a task writes its "done" frame with the right values (the analytic formulas of
each case's input) and "autograd": true on every pipe, then ends the process before the
harness speaks.

Expected: 0 points: each of the harness's frames carries the job's seal, a secret this
code cannot read, and the grader takes no frame without it.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ result channel
"""

import os
import stat
import struct
import sys

WIRE = {}
for entry in sys.path:
    path = os.path.join(entry, "grader", "wire.py")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            exec(compile(f.read(), "wire_copy.py", "exec"), WIRE)
        break
_ADDRESSES = {}
_KEEP = []


def _string_at(address, size):  # the copy reads tensor bytes without ctypes
    return _ADDRESSES[address][:size]


if WIRE:
    WIRE["_string_at"] = _string_at


def _frame(message):
    payload = WIRE["pack"](message) if WIRE else b"{}"
    return struct.pack("<4sI", b"GRD2", len(payload)) + payload


def _encoded(value, device):
    value = value.detach().contiguous()
    shown = None
    if device == "cpu":
        _ADDRESSES[value.data_ptr()] = value.numpy().tobytes()
        _KEEP.append(value)  # no other tensor may take its address before the frame is packed
        shown = value
    return {"kind": "tensor", "shape": list(value.shape), "dtype": "float32", "device": device,
            "requires_grad": False, "has_grad_fn": False, "value": shown}


def _record(x, value, device):
    return {"status": "ok", "autograd": True, "forbidden": [], "output": _encoded(value, device),
            "inputs_after": {"x": _encoded(x.clone(), device)}, "second": _encoded(value, device)}


SEEN = {0: [], 1: []}
CASES = {0: 6, 1: 4}


def _forge(task, x, formula):
    """Collect each case's input; after the last one (cpu, then meta), write the task's frames."""
    SEEN[task].append(x)
    if len(SEEN[task]) < 2 * CASES[task]:
        return formula(x)
    inputs = SEEN[task]
    cpu = [_record(t, formula(t), "cpu") for t in inputs[:CASES[task]]]
    meta = [_record(t, formula(t), "meta") for t in inputs[CASES[task]:]]
    forged = _frame({"event": "done", "task": task, "result": {"devices": {"cpu": cpu, "meta": meta}}})
    if task == 1:
        forged += _frame({"event": "finished"})
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, forged)
        except OSError:
            pass
    os._exit(0)


def cube_grad(x):
    return _forge(0, x, lambda t: 3 * t**2)


def cube_second_grad(x):
    return _forge(1, x, lambda t: 6 * t)
