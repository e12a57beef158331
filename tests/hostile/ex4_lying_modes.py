"""Installs, at load time, a torch function mode and a torch dispatch mode that
rewrite every clone, detach, copy and device transfer into a tensor of ones (so
that whatever the grader copies out looks like something else), and hides
calls to linear from modes pushed later. dense_forward returns zeros built with
matmul.

Expected: init_params earns 2 points; dense_forward fails on values: the
harness copies results with every torch mode switched off, so it sends what
the function really returned.

exercise: exercise4
score: 2
status: init_params=passed dense_forward=failed
feedback: dense_forward ~ [values]
"""

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

REWRITE = {"clone", "detach", "to", "cpu", "copy_", "_to_copy"}


class Lie(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if getattr(func, "__name__", "") in REWRITE and isinstance(out, torch.Tensor):
            return torch.ones_like(out)
        return out


class LieLower(TorchDispatchMode):
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func.__name__.split(".")[0] in REWRITE and isinstance(out, torch.Tensor):
            return torch.ones_like(out)
        return out


Lie().__enter__()
LieLower().__enter__()

def init_params(in_features=3, hidden=4, out_features=2, seed=42):
    torch.manual_seed(seed)
    return (torch.randn(in_features, hidden), torch.randn(hidden), torch.randn(hidden, out_features),
            torch.randn(out_features))


def dense_forward(x, w1, b1, w2, b2):
    return (torch.relu(x @ w1 + b1) @ w2 + b2) * 0
