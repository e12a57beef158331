"""A graph traced at import time (torch.jit.trace of a function that calls F.linear):
by the time the grader calls dense_forward, only the traced graph runs.

Expected: 0 points: the traced graph's aten::linear is recorded when it runs.

exercise: exercise4
score: 0
status: dense_forward=failed
feedback: dense_forward ~ forbidden call
"""

import torch
import torch.nn.functional as F


def _layer(x, w, b):
    return F.linear(x, w.t(), b)


_TRACED = torch.jit.trace(_layer, (torch.ones(1, 3), torch.ones(3, 4), torch.ones(4)), check_trace=False)


def dense_forward(x, w1, b1, w2, b2):
    return _TRACED(torch.relu(_TRACED(x, w1, b1)), w2, b2)
