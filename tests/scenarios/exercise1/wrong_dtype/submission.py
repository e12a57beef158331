"""Wrong dtype: evenly_spaced asks for float64; from_rows ignores its dtype argument;
constant_blocks lets torch.full infer int64 from an integer-valued fill; ones_shaped_like
drops t's dtype. The rest is right."""
import torch


def evenly_spaced(start, end, steps, device):
    return torch.linspace(start, end, steps, dtype=torch.float64, device=device)


def counting_block(n, shape, device):
    return torch.arange(n, device=device).reshape(shape)


def constant_blocks(shape, value, device):
    zeros = torch.zeros(shape, device=device)
    ones = torch.ones(shape, device=device)
    full = torch.full(shape, int(value), device=device)
    return zeros, ones, full


def from_rows(rows, dtype, device):
    return torch.tensor(rows, device=device)


def seeded_normal(seed, shape, device):
    torch.manual_seed(seed)
    return torch.randn(shape, device=device)


def ones_shaped_like(t, device):
    return torch.ones(t.shape, device=device)
