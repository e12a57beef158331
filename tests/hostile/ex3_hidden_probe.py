"""Passes the visible cases and tries to make the hidden ones talk: on any other
input cube_grad raises an exception whose message holds the input's shape and
numbers, and cube_second_grad returns wrong values so that the feedback would
show the expected ones.

Expected: feedback on a hidden case names the rule and what the result was like
(an exception's type, "wrong values"), never the case's arguments, its expected
result, an exception message, or numbers derived from them; no points.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=failed
feedback: cube_grad ~ hidden case
feedback: cube_second_grad ~ hidden case
absent: SECRET
absent: x=
absent: got
absent: index
"""

import torch


def _visible(x):
    return x.numel() == 4


def cube_grad(x):
    if not _visible(x):
        leak = f"{tuple(x.shape)} {x.tolist() if x.device.type != 'meta' else ''}"
        raise ValueError("SEC" + "RET " + leak)  # the marker is not in the source line the traceback shows
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()
    return leaf.grad


def cube_second_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (first,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), leaf)
    return second if _visible(x) else second + 1
