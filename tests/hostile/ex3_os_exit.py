"""Calls os._exit(0) inside cube_grad: the process ends at once, no exception, no
cleanup, exit status 0 ("success"). cube_second_grad is correct.

Expected: cube_grad is an error ("ended the process"); the grader starts a fresh
child for cube_second_grad, which earns 3 points.

exercise: exercise3
score: 3
status: cube_grad=error cube_second_grad=passed
feedback: cube_grad ~ ended the process
cli: yes
"""

import os

import torch


def cube_grad(x):
    os._exit(0)


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    return second
