"""The forbidden function under an alias: dense_forward reaches torch.nn.functional.linear
through getattr on a renamed module. The values are right; the rule names the call."""
import torch
import torch.nn.functional as nnf


def init_params(in_features=3, hidden=4, out_features=2, seed=42):
    torch.manual_seed(seed)
    w1 = torch.randn(in_features, hidden)
    b1 = torch.randn(hidden)
    w2 = torch.randn(hidden, out_features)
    b2 = torch.randn(out_features)
    return w1, b1, w2, b2


def dense_forward(x, w1, b1, w2, b2):
    layer = getattr(nnf, "lin" + "ear")
    hidden = torch.relu(layer(x, w1.T, b1))
    return layer(hidden, w2.T, b2)
