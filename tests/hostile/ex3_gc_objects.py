"""Enumerates every object (gc.get_objects, gc.get_referrers) to find the harness's call
record or the autograd evidence and mark the call as autograd; returns the formula.

Expected: 0 points: the audit hook refuses object enumeration in graded code, so the
file does not even load.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ gc.get_objects is not allowed
"""

import gc

for obj in gc.get_objects():
    if isinstance(obj, dict) and obj.get("status") == "ok":
        obj["autograd"] = True


def cube_grad(x):
    return 3 * x**2


def cube_second_grad(x):
    return 6 * x
