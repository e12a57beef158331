"""Returns a placeholder at once and keeps working in a thread of its own after the call
"returned": the thread fills the placeholder with the formula while the grader encodes it
(the evidence is taken before the value is final).

Expected: 0 points: the grader waits for the submission's threads before it reads the
evidence and the result, and a thread still running after that is reported.

exercise: exercise3
score: 0
status: cube_grad=failed cube_second_grad=failed
feedback: cube_grad ~ use autograd | threads
timeout: 8
"""

import threading
import time

import torch


def _later(out, value):
    time.sleep(0.05)
    out.copy_(value)
    time.sleep(3)


def cube_grad(x):
    leaf = torch.ones(1, requires_grad=True)
    leaf.sum().backward()
    out = torch.zeros_like(x)
    threading.Thread(target=_later, args=(out, 3 * x**2), daemon=True).start()
    return out


def cube_second_grad(x):
    out = torch.zeros_like(x)
    threading.Thread(target=_later, args=(out, 6 * x), daemon=True).start()
    return out
