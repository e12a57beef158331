"""line_grads returns y with the gradients written as formulas (x and ones), after a
backward() on an unrelated tensor so that "autograd ran".

Expected: 0 points for line_grads: its gradient items must be what the engine produced
for leaves holding w and b; the honest square_sum_grad keeps its points.

exercise: exercise14
score: 2
status: line_grads=failed square_sum_grad=passed
feedback: line_grads ~ use autograd
"""

import torch


def line_grads(x, w, b):
    dummy = torch.ones(1, requires_grad=True)
    (dummy * 2).sum().backward()
    return w * x + b, x.clone(), torch.ones_like(b)


def square_sum_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (leaf * leaf).sum().backward()
    return leaf.grad
