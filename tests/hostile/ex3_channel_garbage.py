"""Writes garbage into every pipe it holds (the result channel among them) while
loading. The functions would be correct.

Expected: both tasks are errors saying the code interfered with the grader's
result channel; no points, since no result can be trusted; no waiting for a
timeout.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ result channel
"""

import os
import stat

import torch

for fd in range(3, 64):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.write(fd, b"GRD1\xff\xff\xff\x7fgarbage" * 100)
    except OSError:
        pass


def cube_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()
    return leaf.grad


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    return second
