"""Installs a trace function (sys.settrace, threading.settrace) to see the harness's
frames as they run and rewrite their locals; returns the formula.

Expected: 0 points: tracing is refused in graded code.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ sys.settrace is not allowed
"""

import sys


def tracer(frame, event, arg):
    if "record" in frame.f_locals:
        frame.f_locals["record"]["autograd"] = True
    return tracer


sys.settrace(tracer)


def cube_grad(x):
    return 3 * x**2


def cube_second_grad(x):
    return 6 * x
