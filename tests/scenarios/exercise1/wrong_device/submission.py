"""Wrong device: evenly_spaced ignores its device argument and from_rows builds on the CPU
and moves afterwards only to "cuda"; ones_shaped_like calls .cpu(). The CPU check passes
them, the meta check catches all three. The rest is right."""
import torch


def evenly_spaced(start, end, steps, device):
    return torch.linspace(start, end, steps)


def counting_block(n, shape, device):
    return torch.arange(n, device=device).reshape(shape)


def constant_blocks(shape, value, device):
    zeros = torch.zeros(shape, device=device)
    ones = torch.ones(shape, device=device)
    full = torch.full(shape, value, dtype=torch.float32, device=device)
    return zeros, ones, full


def from_rows(rows, dtype, device):
    t = torch.tensor(rows, dtype=dtype)
    return t.cuda() if device == "cuda" else t


def seeded_normal(seed, shape, device):
    torch.manual_seed(seed)
    return torch.randn(shape, device=device)


def ones_shaped_like(t, device):
    return torch.ones_like(t, device=device).cpu()
