"""Infinite loop: cube_grad "refines" its answer in a `while True` loop that never breaks.
Only cube_grad times out; cube_second_grad still scores."""
import torch


def cube_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()
    grad = leaf.grad
    while True:
        grad = grad * 1.0
    return grad


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    return second
