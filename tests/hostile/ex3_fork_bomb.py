"""A fork bomb in cube_grad: every process forks for ever. cube_second_grad is correct.

Expected: the bomb is contained (a process limit per job, and everything in the
job's PID namespace dies with it): cube_grad times out, the machine stays
usable, no process is left behind, and cube_second_grad earns its 3 points in a
fresh child.

exercise: exercise3
score: 3
status: cube_grad=timeout cube_second_grad=passed
feedback: cube_grad ~ took longer than
needs: containment
timeout: 2
"""

import os

import torch


def cube_grad(x):
    while True:
        try:
            os.fork()
        except OSError:
            pass


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    return second
