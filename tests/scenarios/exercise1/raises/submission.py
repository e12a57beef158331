"""Raises: from_rows calls a helper that indexes a flat list as if it were nested; the
feedback shows the student's two lines (from_rows, then the helper), none of the grader's.
The other functions are right and score."""
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


def _width(rows):
    return len(rows[0])


def from_rows(rows, dtype, device):
    width = _width(rows)
    return torch.tensor(rows, dtype=dtype, device=device).reshape(-1, width)


def seeded_normal(seed, shape, device):
    torch.manual_seed(seed)
    return torch.randn(shape, device=device)


def ones_shaped_like(t, device):
    return torch.ones_like(t, device=device)
