"""Monkeypatches torch's comparison functions so that any two tensors look equal,
then returns zeros. The best-known notebook grader gives full marks to this.

Expected: 0 points. The comparison runs in the grader's own process, which the
patch never reaches; feedback names the values that differ.

exercise: exercise3
score: 0
status: cube_grad=failed cube_second_grad=failed
feedback: cube_grad ~ [values]
feedback: cube_second_grad ~ [values]
"""

import torch

torch.allclose = lambda *a, **k: True
torch.isclose = lambda a, b, *args, **k: torch.ones_like(a, dtype=torch.bool)
torch.equal = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
torch.Tensor.__eq__ = lambda self, other: True
torch.Tensor.allclose = lambda self, *a, **k: True


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
