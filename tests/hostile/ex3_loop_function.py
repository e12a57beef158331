"""An infinite loop in cube_grad; cube_second_grad is correct.

Expected: cube_grad times out; a fresh child runs cube_second_grad, which earns
its 3 points.

exercise: exercise3
score: 3
status: cube_grad=timeout cube_second_grad=passed
feedback: cube_grad ~ infinite loop
timeout: 1
"""

import torch


def cube_grad(x):
    while True:
        pass


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    return second
