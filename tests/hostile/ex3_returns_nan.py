"""Returns NaN everywhere (NaN compares unequal to everything, so a careless
"not any(a != b)" check passes it).

Expected: 0 points; the feedback says the result has NaN.

exercise: exercise3
score: 0
status: cube_grad=failed cube_second_grad=failed
feedback: cube_grad ~ NaN
"""

import torch


def _autograd_alibi(x):
    """A real backward pass, so that the "use autograd" rule is satisfied and the values decide."""
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()


def cube_grad(x):
    _autograd_alibi(x)
    return torch.full_like(x, float("nan"))


def cube_second_grad(x):
    _autograd_alibi(x)
    return torch.full_like(x, float("nan"))
