"""The autograd engine made to return the analytic formula: a zero leaf w of x's shape,
backward of (w * 3x²).sum(), and w.grad (which is 3x², produced by the engine, but for w,
not for the input). The same with torch.autograd.grad for the second derivative.

Expected: 0 points: the gradient must be one the engine produced for a leaf holding the
input's values.

exercise: exercise3
score: 0
status: cube_grad=failed cube_second_grad=failed
feedback: cube_grad ~ use autograd
"""

import torch


def cube_grad(x):
    w = torch.zeros_like(x, requires_grad=True)
    (w * (3 * x.detach() ** 2)).sum().backward()
    return w.grad


def cube_second_grad(x):
    w = torch.full_like(x, 7.0, requires_grad=True)
    return torch.autograd.grad((w * (6 * x.detach())).sum(), w)[0]
