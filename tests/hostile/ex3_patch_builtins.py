"""Replaces builtins (isinstance, type checks, len, print, abs, float) with liars and
returns the input unchanged.

Expected: 0 points. The harness bound every builtin it uses before the file
was loaded, and the verdicts are made in the grader's process; torch itself
cannot work with these builtins, so the calls end in errors.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
"""

import builtins

builtins.isinstance = lambda obj, cls: True
builtins.len = lambda obj: 0
builtins.abs = lambda x: 0
builtins.float = lambda *a: 0.0
builtins.print = lambda *a, **k: None
builtins.all = lambda it: True
builtins.any = lambda it: False


def cube_grad(x):
    return x


def cube_second_grad(x):
    return x
