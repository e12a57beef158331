"""F.linear under torch._C.DisableTorchFunction(), and again with the torch function mode
stack popped and pushed back, so that no Python-level watcher sees the call.

Expected: 0 points: the dispatcher records the op whatever Python switched off.

exercise: exercise4
score: 0
status: dense_forward=failed
feedback: dense_forward ~ forbidden call
"""

import torch
import torch.nn.functional as F


def _popped(fn, *args):
    modes = []
    while torch._C._len_torch_function_stack() > 0:
        modes.append(torch._C._pop_torch_function_stack())
    try:
        return fn(*args)
    finally:
        for mode in reversed(modes):
            torch._C._push_on_torch_function_stack(mode)


def dense_forward(x, w1, b1, w2, b2):
    with torch._C.DisableTorchFunction():
        hidden = torch.relu(F.linear(x, w1.t(), b1))
    return _popped(F.linear, hidden, w2.t(), b2)
