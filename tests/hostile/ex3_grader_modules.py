"""Rebinds the harness's helpers through sys.modules (grader.boundary.child, grader.boundary.observe) and,
when they are not there, imports them fresh to patch the evidence check; returns the
formula.

Expected: 0 points: no grader module is left in sys.modules and importing one is
refused in graded code, so the file does not load.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ importing grader
"""

import sys

for name in list(sys.modules):
    if name.startswith("grader"):
        module = sys.modules[name]
        if hasattr(module, "_engine_made"):
            module._engine_made = lambda *a: True

import grader.boundary.child  # noqa: E402

grader.boundary.child._engine_made = lambda *a: True


def cube_grad(x):
    return 3 * x**2


def cube_second_grad(x):
    return 6 * x
