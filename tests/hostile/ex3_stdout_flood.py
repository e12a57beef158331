"""Writes 300 MiB to stdout (and more to stderr) in cube_grad, then returns the right
answers.

Expected: full marks in bounded time; the report's output field keeps a few
thousand characters and says how much was cut; the grader's own stdout carries
only its JSON report.

exercise: exercise3
score: 6
status: cube_grad=passed cube_second_grad=passed
output: output truncated
cli: yes
timeout: 20
"""

import os
import sys

import torch

CHUNK = b"flood " * (1 << 17)  # 768 KiB


def cube_grad(x):
    if x.dim() == 2 and x.device.type == "cpu":
        for _ in range(400):
            os.write(1, CHUNK)
        for _ in range(10):
            sys.stderr.write("flood on stderr\n" * 10000)
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()
    return leaf.grad


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    return second
