"""Reference solution of exercise3 (gradients of x³)."""

import torch


def cube_grad(x: torch.Tensor) -> torch.Tensor:
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()
    assert leaf.grad is not None
    return leaf.grad


def cube_second_grad(x: torch.Tensor) -> torch.Tensor:
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    return second
