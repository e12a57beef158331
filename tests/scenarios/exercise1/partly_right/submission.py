"""Partly right: three functions pass; one is not written yet, two compute the wrong values
(arange instead of linspace, and torch.full filled with 0 instead of `value`)."""
import torch


def evenly_spaced(start, end, steps, device):
    step = (end - start) / steps  # off by one: should divide by steps - 1
    return torch.arange(steps, device=device) * step + start


def counting_block(n, shape, device):
    return torch.arange(n, device=device).reshape(shape)


def constant_blocks(shape, value, device):
    zeros = torch.zeros(shape, device=device)
    ones = torch.ones(shape, device=device)
    full = torch.full(shape, 0.0, device=device)
    return zeros, ones, full


def from_rows(rows, dtype, device):
    return torch.tensor(rows, dtype=dtype, device=device)


def seeded_normal(seed, shape, device):
    raise NotImplementedError("seeded_normal: write your code here")


def ones_shaped_like(t, device):
    return torch.ones_like(t, device=device)
