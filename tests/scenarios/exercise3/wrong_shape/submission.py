"""Wrong shape: cube_grad flattens the gradient; cube_second_grad sums it to a scalar
(the derivative of the total rather than element by element)."""
import torch


def cube_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()
    return leaf.grad.flatten()


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    return second.sum()
