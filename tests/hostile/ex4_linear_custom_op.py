"""F.linear hidden in a torch.library custom op (with a fake kernel for meta and an
autograd formula), so Python only sees torch.ops.course.layer.

Expected: 0 points: the custom op's own calls go through the dispatcher and are recorded.

exercise: exercise4
score: 0
status: dense_forward=failed
feedback: dense_forward ~ forbidden call
"""

import torch
import torch.nn.functional as F


@torch.library.custom_op("course::layer", mutates_args=())
def layer(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.linear(x, w.t(), b)


@layer.register_fake
def _(x, w, b):
    return x.new_empty(x.shape[0], w.shape[1])


def _backward(ctx, grad):
    x, w = ctx.saved_tensors
    return grad @ w.t(), x.t() @ grad, grad.sum(0)


def _setup(ctx, inputs, output):
    ctx.save_for_backward(inputs[0], inputs[1])


layer.register_autograd(_backward, setup_context=_setup)


def dense_forward(x, w1, b1, w2, b2):
    return layer(torch.relu(layer(x, w1, b1)), w2, b2)
