"""Creating tensors, but every result is a torch.Tensor subclass (torch.nn.Parameter,
or a custom subclass that claims any comparison succeeds), with the right values.

Expected: 0 points on every task: results must be plain torch.Tensor objects.

exercise: exercise1
score: 0
feedback: evenly_spaced ~ [plain tensor]
"""

import torch


class Sure(torch.Tensor):
    def __eq__(self, other):
        return True


def evenly_spaced(start, end, steps, device):
    return torch.nn.Parameter(torch.linspace(start, end, steps, device=device), requires_grad=False)


def counting_block(n, shape, device):
    return torch.arange(n, device=device).reshape(tuple(shape)).as_subclass(Sure)


def constant_blocks(shape, value, device):
    shape = tuple(shape)
    return tuple(t.as_subclass(Sure) for t in (torch.zeros(shape, device=device), torch.ones(shape, device=device),
                                               torch.full(shape, value, device=device)))


def from_rows(rows, dtype, device):
    return torch.tensor(rows, dtype=dtype, device=device).as_subclass(Sure)


def seeded_normal(seed, shape, device):
    torch.manual_seed(seed)
    return torch.randn(tuple(shape), device=device).as_subclass(Sure)


def ones_shaped_like(t, device):
    return torch.ones_like(t, device=device).as_subclass(Sure)
