"""Returns results far larger than anything the grader asked for: init_params gives
four tensors of two million numbers each (128 MiB of results for the task's cases),
so that the grader has to take in a huge frame.

Expected: the harness refuses to send a frame above the 64 MiB limit and says so;
init_params is an error telling the student the results are too large; the
grader's memory never holds them. dense_forward is missing.

exercise: exercise4
score: 0
status: init_params=error dense_forward=error
feedback: init_params ~ too large
timeout: 10
"""

import torch


def init_params(in_features=3, hidden=4, out_features=2, seed=42):
    return tuple(torch.zeros(2_000_000) for _ in range(4))
