"""Tries to switch off the recording itself: stops torch's profiler, disables
RecordFunction, clears its callbacks, then calls F.linear and starts a profiler again so
that one seems to be running.

Expected: 0 points: the controls are the grader's (refused here), so the recording goes
on and sees F.linear.

exercise: exercise4
score: 0
status: dense_forward=failed
feedback: dense_forward ~ forbidden call
output: refused
"""

import torch
import torch.nn.functional as F
from torch._C import _autograd


def _stop():
    for name in ("_disable_profiler", "_clear_callbacks", "_disable_profiler_legacy"):
        try:
            getattr(_autograd, name)()
        except Exception as exc:  # noqa: BLE001
            print("refused", name, type(exc).__name__)
    try:
        _autograd._enable_record_function(False)
        torch.autograd.profiler._disable_profiler()
    except Exception as exc:  # noqa: BLE001
        print("refused", type(exc).__name__)


def dense_forward(x, w1, b1, w2, b2):
    _stop()
    return F.linear(torch.relu(F.linear(x, w1.t(), b1)), w2.t(), b2)
