"""Syntax error: a bad indentation; the file cannot be loaded, so both tasks report the
error with its line."""
import torch


def init_params(in_features=3, hidden=4, out_features=2, seed=42):
    torch.manual_seed(seed)
    w1 = torch.randn(in_features, hidden)
      b1 = torch.randn(hidden)
    w2 = torch.randn(hidden, out_features)
    b2 = torch.randn(out_features)
    return w1, b1, w2, b2


def dense_forward(x, w1, b1, w2, b2):
    return torch.relu(x @ w1 + b1) @ w2 + b2
