"""Not an attack: correct solutions written in other ways must keep full marks. The
gradient comes from torch.func.grad (a transform over torch.autograd.grad), the second
derivative from two nested torch.func.grad calls.

exercise: exercise3
score: 6
status: cube_grad=passed cube_second_grad=passed
"""

import torch


def f(t):
    return (t**3).sum()


def cube_grad(x):
    return torch.func.grad(f)(x)


def cube_second_grad(x):
    return torch.func.grad(lambda t: torch.func.grad(f)(t).sum())(x)
