"""What a student who has not met .grad yet writes: formulas instead of autograd, gradients
that start from zero every time, and the usual wrong predictions."""
import torch


def line_grads(x, w, b):
    return w * x + b, x, torch.ones_like(b)  # right numbers, no autograd


def square_sum_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (leaf * leaf).sum().backward()
    return leaf.grad


def grad_after_two_backwards(x):
    leaf = x.detach().clone().requires_grad_(True)
    (leaf * leaf).sum().backward()
    leaf.grad = None  # believes backward() overwrites .grad
    (leaf * leaf).sum().backward()
    return leaf.grad


q1 = 17
q2 = 4.0        # dy/dw taken as w
q3 = False      # thinks x gets a gradient too
q4 = 917
q5 = 3          # thinks the second backward() replaces .grad
q6 = (20.0, 24.0, 28.0, 32.0)  # forgets that backward() needs a scalar
