"""Uses torch.nn.Linear modules whose weights are the given tensors (through
torch.func.functional_call, so gradients still reach w1, b1, w2, b2).

Expected: init_params earns 2 points; dense_forward fails ("forbidden call"):
nn.Linear calls the forbidden function inside.

exercise: exercise4
score: 2
status: init_params=passed dense_forward=failed
feedback: dense_forward ~ [forbidden call]
"""

import torch
from torch.func import functional_call


def init_params(in_features=3, hidden=4, out_features=2, seed=42):
    torch.manual_seed(seed)
    return (torch.randn(in_features, hidden), torch.randn(hidden), torch.randn(hidden, out_features),
            torch.randn(out_features))


def dense_forward(x, w1, b1, w2, b2):
    first = torch.nn.Linear(w1.shape[0], w1.shape[1], device="meta")
    second = torch.nn.Linear(w2.shape[0], w2.shape[1], device="meta")
    hidden = torch.relu(functional_call(first, {"weight": w1.t(), "bias": b1}, (x,)))
    return functional_call(second, {"weight": w2.t(), "bias": b2}, (hidden,))
