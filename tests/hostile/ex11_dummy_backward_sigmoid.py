"""double_sigmoid_grad ("use autograd") by the formula 2*s*(1-s) after a backward() that
has nothing to do with it (a leaf of ones, summed).

Expected: 0 points: the result is not a gradient the engine produced for a leaf holding
x's values.

exercise: exercise11
score: 0
status: double_sigmoid_grad=failed
feedback: double_sigmoid_grad ~ use autograd
"""

import torch


def double_sigmoid_grad(x):
    torch.ones_like(x, requires_grad=True).sum().backward()
    s = torch.sigmoid(x)
    return 2 * s * (1 - s)
