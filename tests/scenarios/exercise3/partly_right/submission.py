"""Partly right: cube_grad is right; cube_second_grad returns the first derivative (it
forgets the second torch.autograd.grad), so its values are wrong."""
import torch


def cube_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()
    return leaf.grad


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    return first.detach()
