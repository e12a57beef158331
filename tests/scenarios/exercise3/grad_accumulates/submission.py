"""Two autograd mistakes that give the right numbers once: cube_grad makes the input itself
the leaf, so a second call adds to the gradient already in x.grad ("same result twice");
cube_second_grad tidies up its leaf, which shares memory with x, and so zeroes the
student's input ("inputs unchanged")."""
import torch


def cube_grad(x):
    x.requires_grad_(True)
    (x**3).sum().backward()
    return x.grad


def cube_second_grad(x):
    leaf = x.detach().requires_grad_(True)  # detach() shares memory with x
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    with torch.no_grad():
        leaf.zero_()
    return second
