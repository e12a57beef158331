"""Calls sys.exit(0) inside cube_grad, hoping the grader stops and reports success;
cube_second_grad is correct.

Expected: cube_grad is an error naming SystemExit; cube_second_grad still earns its
3 points.

exercise: exercise3
score: 3
status: cube_grad=error cube_second_grad=passed
feedback: cube_grad ~ SystemExit
cli: yes
"""

import sys

import torch


def cube_grad(x):
    sys.exit(0)


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    return second
