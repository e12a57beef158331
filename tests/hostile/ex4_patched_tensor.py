"""Patches torch.Tensor's Python class: shape, dtype, device and requires_grad
properties that always report what is expected, detach/clone/to/cpu that return
new zeros, then returns a wrong result of the wrong shape.

Expected: init_params earns 2 points; dense_forward earns nothing: the harness
reads tensors through torch's immutable C type and its own saved functions, so
it sends the real shape, (2,), and the task fails on its shape.

exercise: exercise4
score: 2
status: init_params=passed dense_forward=failed
feedback: dense_forward ~ expected shape (1, 2), got (2,)
"""

import torch


def init_params(in_features=3, hidden=4, out_features=2, seed=42):
    torch.manual_seed(seed)
    return (torch.randn(in_features, hidden), torch.randn(hidden), torch.randn(hidden, out_features),
            torch.randn(out_features))


def dense_forward(x, w1, b1, w2, b2):
    real_shape = (x.shape[0], w2.shape[1])
    torch.Tensor.shape = property(lambda self: torch.Size(real_shape))
    torch.Tensor.size = lambda self, *dim: torch.Size(real_shape)
    torch.Tensor.requires_grad = property(lambda self: True)
    torch.Tensor.detach = lambda self: torch.zeros(real_shape)
    torch.Tensor.clone = lambda self, *a, **k: torch.zeros(real_shape)
    torch.Tensor.cpu = lambda self, *a, **k: torch.zeros(real_shape)
    return torch.ones(x.shape[0] + 1, device=x.device)
