"""all_pairs (einsum forbidden) computed by NumPy on the CPU (numpy.einsum on the inputs'
data) and faked on meta with a shape-only torch.empty.

Expected: 0 points: the task must stay in torch; the result carries no gradient back to
a and b.

exercise: exercise8
score: 0
status: all_pairs=failed
feedback: all_pairs ~ stay in torch | gradients
"""

import numpy as np
import torch


def all_pairs(a, b):
    if a.device.type == "meta":
        return torch.empty(a.shape[0], b.shape[0], a.shape[1], b.shape[2], dtype=a.dtype, device="meta")
    out = np.einsum("anm,bmk->abnk", a.detach().numpy(), b.detach().numpy())
    return torch.from_numpy(out)
