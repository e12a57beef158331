"""Wrong shape: init_params draws w2 transposed, (out, hidden); dense_forward works on the
first row only (x[0]), so it returns shape (out,) instead of (batch, out)."""
import torch


def init_params(in_features=3, hidden=4, out_features=2, seed=42):
    torch.manual_seed(seed)
    w1 = torch.randn(in_features, hidden)
    b1 = torch.randn(hidden)
    w2 = torch.randn(out_features, hidden)
    b2 = torch.randn(out_features)
    return w1, b1, w2, b2


def dense_forward(x, w1, b1, w2, b2):
    hidden = torch.relu(x[0] @ w1 + b1)
    return hidden @ w2 + b2
