"""Changes torch's global state at load time and after every call, to break the
cases that follow: default dtype float16, default device meta, grad mode off,
deterministic algorithms on, 64 threads, flushed denormals, a fixed seed, lower
matmul precision. Both functions are otherwise correct.

Expected: full marks: the harness puts the global state back before every call,
so a case never sees what an earlier one did (and no other submission ever
shares this process).

exercise: exercise3
score: 6
status: cube_grad=passed cube_second_grad=passed
"""

import torch


def _sabotage():
    torch.set_default_dtype(torch.float16)
    torch.set_default_device("meta")
    torch.set_grad_enabled(False)
    torch._C._set_deterministic_algorithms(True)  # what use_deterministic_algorithms sets (without its 5 s import)
    torch.set_num_threads(64)
    torch.set_flush_denormal(True)
    torch.manual_seed(12345)
    torch.set_float32_matmul_precision("medium")


_sabotage()


def cube_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()
    _sabotage()
    return leaf.grad


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    _sabotage()
    return second
