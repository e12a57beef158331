"""Infinite loop: seeded_normal waits forever for a "nice" first number (a `while True`
that never breaks). Only that task times out; the other five still score."""
import torch


def evenly_spaced(start, end, steps, device):
    return torch.linspace(start, end, steps, device=device)


def counting_block(n, shape, device):
    return torch.arange(n, device=device).reshape(shape)


def constant_blocks(shape, value, device):
    zeros = torch.zeros(shape, device=device)
    ones = torch.ones(shape, device=device)
    full = torch.full(shape, value, dtype=torch.float32, device=device)
    return zeros, ones, full


def from_rows(rows, dtype, device):
    return torch.tensor(rows, dtype=dtype, device=device)


def seeded_normal(seed, shape, device):
    torch.manual_seed(seed)
    while True:
        sample = torch.randn(shape, device=device)
        if sample.shape == ():  # never true for these shapes
            break
    return sample


def ones_shaped_like(t, device):
    return torch.ones_like(t, device=device)
