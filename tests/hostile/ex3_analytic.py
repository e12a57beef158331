"""The analytic formulas 3x² and 6x instead of autograd: correct values, wrong method.

Expected: 0 points, "[use autograd]" on both tasks (observed by a torch dispatch
mode: no operation ran as part of a backward pass).

exercise: exercise3
score: 0
status: cube_grad=failed cube_second_grad=failed
feedback: cube_grad ~ [use autograd]
feedback: cube_second_grad ~ [use autograd]
"""


def cube_grad(x):
    return 3 * x**2


def cube_second_grad(x):
    return 6 * x
