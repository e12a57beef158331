"""Calls sys.exit(0) while the file is being loaded.

Expected: both tasks are errors saying the file could not be loaded (SystemExit).

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ could not be loaded
feedback: cube_grad ~ SystemExit
"""

import sys

sys.exit(0)


def cube_grad(x):
    return x
