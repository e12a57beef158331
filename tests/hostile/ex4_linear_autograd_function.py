"""F.linear inside a torch.autograd.Function's forward, where torch function modes are
switched off.

Expected: 0 points: the forward's ops are recorded at the dispatcher.

exercise: exercise4
score: 0
status: dense_forward=failed
feedback: dense_forward ~ forbidden call
"""

import torch
import torch.nn.functional as F


class Layer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return F.linear(x, w.t(), b)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        return grad @ w.t(), x.t() @ grad, grad.sum(0)


def dense_forward(x, w1, b1, w2, b2):
    return Layer.apply(torch.relu(Layer.apply(x, w1, b1)), w2, b2)
