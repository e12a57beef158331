"""Ends its own process in the first task, so that the grader starts a fresh child for
the second one (after the references exist), and there hunts the expected values: the
grader's reference cache (`grader.grading`), then every tensor-holding object that the
garbage collector knows of (thawed first: the child froze what it inherited), returning
the expected value of the case whose input it was given, after a token backward pass for the autograd rule.
Against a child forked from the grader itself, this scored 3 of 6.

Expected, in every mode: the fresh child comes from the same warm process as the first,
made before any reference existed, and graded code may not walk the garbage collector's
objects: 0 points, the hunt refused.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_second_grad ~ gc.get_objects is not allowed
timeout: 10
"""

import gc
import os
import sys

import torch


def _hunt(x):
    gc.unfreeze()
    cases = []
    grading = sys.modules.get("grader.grading")
    for refs in getattr(grading, "_REFERENCES", {}).values():
        cases += refs.get(1, [])  # the second task's cases
    cases += [obj for obj in gc.get_objects() if type(obj).__name__ == "CaseRef"]
    for case in cases:
        given = getattr(case, "args", {}).get("x")
        expected = getattr(case, "expected", None)
        if isinstance(given, torch.Tensor) and isinstance(expected, torch.Tensor) and given.shape == x.shape \
                and given.dtype == x.dtype and given.device.type == "cpu" == x.device.type and torch.equal(given, x):
            return expected
    return None


def cube_grad(x):
    os._exit(3)  # not SIGKILL: process 1 of a PID namespace cannot kill itself that way


def cube_second_grad(x):
    value = _hunt(x)
    leaf = x.detach().requires_grad_()
    (leaf**3).sum().backward()
    print("hunted:", "a reference" if value is not None else "nothing")
    return value.to(x.device).clone() if value is not None else torch.zeros_like(x)
