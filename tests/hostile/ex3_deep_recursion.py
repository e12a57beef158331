"""Unbounded recursion through C code (map and sum call back into Python), with the
recursion limit raised to 10**8 so that Python does not stop it: the C stack
overflows (a segmentation fault).
cube_second_grad is correct.

Expected: cube_grad is an error saying the process crashed; a fresh child runs
cube_second_grad, which earns its 3 points.

exercise: exercise3
score: 3
status: cube_grad=error cube_second_grad=passed
feedback: cube_grad ~ crashed | RecursionError | stack overflow
"""

import sys

import torch


def deeper(n):
    return sum(map(deeper, [n + 1]))


def cube_grad(x):
    sys.setrecursionlimit(10**8)
    return deeper(0)


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    return second
