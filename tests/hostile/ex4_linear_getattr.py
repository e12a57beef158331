"""Reaches torch.nn.functional.linear through getattr with a computed name, so that
no search of the source text finds it.

Expected: init_params earns its 2 points; dense_forward fails with the rule
"forbidden call" naming torch.nn.functional.linear (observed at run time by a
torch function mode, however the function was reached).

exercise: exercise4
score: 2
status: init_params=passed dense_forward=failed
feedback: dense_forward ~ [forbidden call]
feedback: dense_forward ~ torch.nn.functional.linear
"""

import torch


def init_params(in_features=3, hidden=4, out_features=2, seed=42):
    torch.manual_seed(seed)
    return (torch.randn(in_features, hidden), torch.randn(hidden), torch.randn(hidden, out_features),
            torch.randn(out_features))


def dense_forward(x, w1, b1, w2, b2):
    lin = getattr(torch.nn.functional, "lin" + "ear")
    return lin(torch.relu(lin(x, w1.t(), b1)), w2.t(), b2)
