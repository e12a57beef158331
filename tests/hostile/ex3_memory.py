"""Allocates far more memory than allowed: 64 GiB at once in cube_grad, then 1 GiB
blocks until something gives in cube_second_grad.

Expected: both allocations fail inside the child with an out-of-memory error
(the address-space limit), both tasks are errors; the grader's own memory is
untouched.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ allocate
feedback: cube_second_grad ~ allocate | MemoryError
"""

import torch


def cube_grad(x):
    big = torch.ones(16 << 30)  # 64 GiB of float32
    return big[: x.numel()].reshape(x.shape)


def cube_second_grad(x):
    blocks = []
    while True:
        blocks.append(torch.empty(1 << 28))  # 1 GiB at a time
