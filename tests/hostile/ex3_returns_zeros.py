"""Returns zeros of the right shape, dtype and device.

Expected: 0 points, values differ.

exercise: exercise3
score: 0
status: cube_grad=failed cube_second_grad=failed
feedback: cube_grad ~ [values]
"""

import torch


def _autograd_alibi(x):
    """A real backward pass, so that the "use autograd" rule is satisfied and the values decide."""
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()


def cube_grad(x):
    _autograd_alibi(x)
    return torch.zeros_like(x)


def cube_second_grad(x):
    _autograd_alibi(x)
    return torch.zeros_like(x)
