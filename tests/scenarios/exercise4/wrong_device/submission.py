"""Wrong device: dense_forward builds its relu with a zeros tensor created without a
device, and the meta check catches it (init_params is checked on the CPU only and is right)."""
import torch


def init_params(in_features=3, hidden=4, out_features=2, seed=42):
    torch.manual_seed(seed)
    w1 = torch.randn(in_features, hidden)
    b1 = torch.randn(hidden)
    w2 = torch.randn(hidden, out_features)
    b2 = torch.randn(out_features)
    return w1, b1, w2, b2


def dense_forward(x, w1, b1, w2, b2):
    pre = x @ w1 + b1
    hidden = torch.maximum(pre, torch.zeros(pre.shape, dtype=pre.dtype))
    return hidden @ w2 + b2
