"""Imports the forbidden module with importlib under another name and calls linear
through an alias.

Expected: init_params earns 2 points; dense_forward fails ("forbidden call").

exercise: exercise4
score: 2
status: init_params=passed dense_forward=failed
feedback: dense_forward ~ [forbidden call]
"""

import importlib

import torch

helpers = importlib.import_module("torch.nn." + "functional")
dense = helpers.linear

def init_params(in_features=3, hidden=4, out_features=2, seed=42):
    torch.manual_seed(seed)
    return (torch.randn(in_features, hidden), torch.randn(hidden), torch.randn(hidden, out_features),
            torch.randn(out_features))


def dense_forward(x, w1, b1, w2, b2):
    return dense(torch.relu(dense(x, w1.t(), b1)), w2.t(), b2)
