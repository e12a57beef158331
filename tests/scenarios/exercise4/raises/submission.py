"""Raises: dense_forward multiplies by w1.T in a helper layer, so torch raises a shape
mismatch; the feedback shows the student's two lines (dense_forward, then the helper),
none of the grader's. init_params is right and scores."""
import torch


def init_params(in_features=3, hidden=4, out_features=2, seed=42):
    torch.manual_seed(seed)
    w1 = torch.randn(in_features, hidden)
    b1 = torch.randn(hidden)
    w2 = torch.randn(hidden, out_features)
    b2 = torch.randn(out_features)
    return w1, b1, w2, b2


def layer(x, w, b):
    return x @ w.T + b


def dense_forward(x, w1, b1, w2, b2):
    hidden = torch.relu(layer(x, w1, b1))
    return layer(hidden, w2, b2)
