"""Computes the right values but detaches the result from the graph (and goes
through .numpy() for the hidden layer on CPU), so no gradient reaches the
parameters.

Expected: init_params earns 2 points; dense_forward fails with the rule
"gradients flow" (the grader differentiates the result itself).

exercise: exercise4
score: 2
status: init_params=passed dense_forward=failed
feedback: dense_forward ~ [gradients flow]
"""

import torch


def init_params(in_features=3, hidden=4, out_features=2, seed=42):
    torch.manual_seed(seed)
    return (torch.randn(in_features, hidden), torch.randn(hidden), torch.randn(hidden, out_features),
            torch.randn(out_features))


def dense_forward(x, w1, b1, w2, b2):
    return (torch.relu(x @ w1 + b1) @ w2 + b2).detach()
