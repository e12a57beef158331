"""Raises: cube_second_grad differentiates twice without create_graph=True, so torch raises
inside the second torch.autograd.grad; the feedback shows the student's line, none of the
grader's or torch's. cube_grad is right and scores."""
import torch


def cube_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()
    return leaf.grad


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    return second
