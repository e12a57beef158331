"""Reads its own process memory through /proc/self/mem (and the maps) to find the
harness's state, then returns the formula.

Expected: 0 points: reading /proc/*/mem is refused in graded code.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ /proc/self/mem
"""

with open("/proc/self/mem", "rb") as mem:
    mem.read(1)


def cube_grad(x):
    return 3 * x**2


def cube_second_grad(x):
    return 6 * x
