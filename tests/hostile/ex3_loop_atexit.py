"""Registers atexit hooks and signal handlers that loop for ever (the process would
never exit after its last task, and would ignore SIGTERM). Both functions are correct.

Expected: full marks in bounded time: the child ends with os._exit (no atexit
hooks), and it is killed with SIGKILL, which no handler can catch.

exercise: exercise3
score: 6
status: cube_grad=passed cube_second_grad=passed
"""

import atexit
import signal

import torch


def forever(*args):
    while True:
        pass


atexit.register(forever)
for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
    signal.signal(sig, forever)


def cube_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()
    return leaf.grad


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    return second
