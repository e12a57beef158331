"""Writes 500 MiB to one file in its folder, then thousands of 1 MiB files to /tmp,
in cube_grad. cube_second_grad is correct.

Expected: the writes fail inside the child (file size limit, and a small private
/tmp), cube_grad is an error, nothing lands on the grader's disk, and
cube_second_grad earns its 3 points.

exercise: exercise3
score: 3
status: cube_grad=error cube_second_grad=passed
feedback: cube_grad ~ File too large | No space left | larger than allowed | Read-only
"""


import torch


def cube_grad(x):
    block = b"\0" * (1 << 20)
    with open("big.bin", "wb") as f:
        for _ in range(500):
            f.write(block)
    for i in range(5000):
        with open(f"/tmp/flood-{i}.bin", "wb") as f:
            f.write(block)
    return x


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    return second
