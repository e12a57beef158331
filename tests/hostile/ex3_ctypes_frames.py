"""Uses ctypes to reach what Python hides: PyFrame_LocalsToFast to write a frame's locals,
raw memory reads at id() addresses; then returns the formula.

Expected: 0 points: every ctypes operation is refused by the audit hook in graded code.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ ctypes
"""

import ctypes
import sys


def _poke():
    frame = sys._getframe()
    ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(0))
    return ctypes.string_at(id(frame), 64)


def cube_grad(x):
    _poke()
    return 3 * x**2


def cube_second_grad(x):
    _poke()
    return 6 * x
