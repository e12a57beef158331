"""Wrong shape: counting_block forgets to reshape; ones_shaped_like uses only the first
dimension of t; constant_blocks returns one stacked tensor instead of a tuple of three.
The rest is right."""
import torch


def evenly_spaced(start, end, steps, device):
    return torch.linspace(start, end, steps, device=device)


def counting_block(n, shape, device):
    return torch.arange(n, device=device)


def constant_blocks(shape, value, device):
    zeros = torch.zeros(shape, device=device)
    ones = torch.ones(shape, device=device)
    full = torch.full(shape, value, dtype=torch.float32, device=device)
    return torch.stack([zeros, ones, full])


def from_rows(rows, dtype, device):
    return torch.tensor(rows, dtype=dtype, device=device)


def seeded_normal(seed, shape, device):
    torch.manual_seed(seed)
    return torch.randn(shape, device=device)


def ones_shaped_like(t, device):
    return torch.ones(t.shape[0], dtype=t.dtype, device=device)
