"""Leaves System V shared memory for the next student and reads what the previous one left:
at import it looks for a segment under a fixed key and prints its contents, then creates
one under that key (64 MiB, counted against no limit of its own), writes a secret into it
and never removes it. Its answers are right.

Expected, in every mode: graded code may not load ctypes (the audit hook refuses it at
import): 0 points, with that said. Underneath, each job has an IPC namespace of its own
(or, without one, the system call filter denies System V IPC: tests/test_sandbox.py).

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ ctypes.dlopen is not allowed
"""

import ctypes

import torch

KEY, SIZE, IPC_CREAT = 0x6D656D31, 64 << 20, 0o1000
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
found = libc.shmget(KEY, 0, 0o666)
if found >= 0:
    address = libc.shmat(found, None, 0)
    print("found a segment:", ctypes.string_at(address, 32) if address not in (None, ctypes.c_void_p(-1).value) else "")
else:
    print("no segment")
made = libc.shmget(KEY, SIZE, IPC_CREAT | 0o666)
if made >= 0:
    address = libc.shmat(made, None, 0)
    if address not in (None, ctypes.c_void_p(-1).value):
        ctypes.memmove(address, b"secret of the previous student", 30)


def cube_grad(x):
    leaf = x.detach().requires_grad_()
    (leaf**3).sum().backward()
    return leaf.grad


def cube_second_grad(x):
    leaf = x.detach().requires_grad_()
    (g,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), leaf)
    return h
