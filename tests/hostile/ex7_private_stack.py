"""pair_up (torch.stack and friends forbidden) with torch's private kernel torch._stack,
and through torch.ops.aten.stack.out into a buffer on the other devices.

Expected: 0 points: a forbidden entry covers the private kernels and out= variants
behind the function.

exercise: exercise7
score: 0
status: pair_up=failed
feedback: pair_up ~ forbidden call
"""

import torch


def pair_up(a, b):
    if a.device.type == "cpu":
        return torch._stack([a, b], dim=-1)
    out = a.new_empty((*a.shape, 2))
    return torch.ops.aten.stack.out([a, b], -1, out=out)
