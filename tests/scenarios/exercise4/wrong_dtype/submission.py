"""Wrong dtype: init_params draws float64 parameters; dense_forward returns float64 "for
precision" whatever the input's dtype."""
import torch


def init_params(in_features=3, hidden=4, out_features=2, seed=42):
    torch.manual_seed(seed)
    w1 = torch.randn(in_features, hidden, dtype=torch.float64)
    b1 = torch.randn(hidden, dtype=torch.float64)
    w2 = torch.randn(hidden, out_features, dtype=torch.float64)
    b2 = torch.randn(out_features, dtype=torch.float64)
    return w1, b1, w2, b2


def dense_forward(x, w1, b1, w2, b2):
    hidden = torch.relu(x.double() @ w1.double() + b1.double())
    return hidden @ w2.double() + b2.double()
