"""Code that only works on the CPU: moves everything to "cpu" and computes through
numpy, so the right values come back on the CPU device but never on meta.

Expected: init_params (CPU only by design) earns 2 points; dense_forward earns
nothing: on cpu no gradient flows (the first failure reported), and on meta the
numpy round trip fails.

exercise: exercise4
score: 2
status: init_params=passed dense_forward=error
feedback: dense_forward ~ [gradients flow]
"""

import numpy as np
import torch


def init_params(in_features=3, hidden=4, out_features=2, seed=42):
    torch.manual_seed(seed)
    return (torch.randn(in_features, hidden), torch.randn(hidden), torch.randn(hidden, out_features),
            torch.randn(out_features))


def dense_forward(x, w1, b1, w2, b2):
    a = [t.detach().cpu().numpy() for t in (x, w1, b1, w2, b2)]
    out = np.maximum(a[0] @ a[1] + a[2], 0) @ a[3] + a[4]
    return torch.from_numpy(out).to(x.device)
