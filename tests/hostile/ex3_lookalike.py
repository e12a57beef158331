"""Returns an object that looks like a tensor: shape, dtype, device, numpy(),
__array__, tolist(), and an __eq__ that is always true.

Expected: 0 points, "expected a torch.Tensor, got Fake".

exercise: exercise3
score: 0
status: cube_grad=failed cube_second_grad=failed
feedback: cube_grad ~ [plain tensor]
feedback: cube_grad ~ Fake
"""

import torch


class Fake:
    def __init__(self, like):
        self.shape = like.shape
        self.dtype = like.dtype
        self.device = like.device
        self.requires_grad = False

    def __eq__(self, other):
        return True

    def numpy(self):
        return torch.zeros(self.shape).numpy()

    def __array__(self, *a, **k):
        return self.numpy()

    def tolist(self):
        return torch.zeros(self.shape).tolist()


def _autograd_alibi(x):
    """A real backward pass, so that the "use autograd" rule is satisfied and the values decide."""
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()


def cube_grad(x):
    _autograd_alibi(x)
    return Fake(x)


def cube_second_grad(x):
    _autograd_alibi(x)
    return Fake(x)
