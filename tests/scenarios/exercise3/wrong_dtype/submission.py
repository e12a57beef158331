"""Wrong dtype: cube_grad works in float64 "for precision" and returns float64 for float32
inputs; cube_second_grad is right."""
import torch


def cube_grad(x):
    leaf = x.detach().to(torch.float64).requires_grad_(True)
    (leaf**3).sum().backward()
    return leaf.grad


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    return second
