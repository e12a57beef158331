""""Use autograd" by a dummy: a one-element backward() runs during each call, then the
analytic formulas 3 * x**2 and 6 * x are returned.

Expected: 0 points: the result must be what the autograd engine produced for a leaf
holding the input's values; the dummy's gradient is for another tensor.

exercise: exercise3
score: 0
status: cube_grad=failed cube_second_grad=failed
feedback: cube_grad ~ use autograd
feedback: cube_second_grad ~ use autograd
"""

import torch


def _dummy():
    torch.ones(1, requires_grad=True).sum().backward()


def cube_grad(x):
    _dummy()
    return 3 * x**2


def cube_second_grad(x):
    _dummy()
    return 6 * x
