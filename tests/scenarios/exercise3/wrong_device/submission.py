"""Wrong device: cube_grad calls .cpu() on its result (an error on meta, which has no data);
cube_second_grad collects the result in a new tensor created without a device (always on
the CPU). The CPU check passes both; the meta check catches them."""
import torch


def cube_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()
    return leaf.grad.cpu()


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    out = torch.zeros(x.shape, dtype=x.dtype)
    return out + second
