"""zero_negatives (clamp, relu, where and maximum forbidden) through aliases and variants
of clamp: torch.clip, Tensor.clamp_min_, torch.relu_ and F.hardtanh, one per device.

Expected: 0 points: one YAML entry covers the op's in-place, private and one-sided
variants, and aliases run the forbidden op at the dispatcher.

exercise: exercise6
score: 0
status: zero_negatives=failed
feedback: zero_negatives ~ forbidden call
"""

import torch
import torch.nn.functional as F

_CALLS = [0]


def zero_negatives(t):
    _CALLS[0] += 1
    way = _CALLS[0] % 4
    if way == 0:
        return torch.clip(t, min=0)
    if way == 1:
        return t.clone().clamp_min_(0)
    if way == 2:
        return torch.relu_(t.clone())
    return F.hardtanh(t, 0.0, float("inf"))
