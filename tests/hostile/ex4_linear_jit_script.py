"""F.linear inside a TorchScript function (torch.jit.script), which runs in TorchScript's
interpreter, not through Python's torch functions.

Expected: 0 points: TorchScript's ops go through the dispatcher, where they are recorded.

exercise: exercise4
score: 0
status: dense_forward=failed
feedback: dense_forward ~ forbidden call
"""

import torch
import torch.nn.functional as F


@torch.jit.script
def _layer(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.linear(x, w.t(), b)


def dense_forward(x, w1, b1, w2, b2):
    return _layer(torch.relu(_layer(x, w1, b1)), w2, b2)
