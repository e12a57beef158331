"""Reference solution of exercise1 (creating tensors)."""

import torch


def evenly_spaced(start: float, end: float, steps: int, device: str) -> torch.Tensor:
    return torch.linspace(start, end, steps, device=device)


def counting_block(n: int, shape: tuple, device: str) -> torch.Tensor:
    return torch.arange(n, device=device).reshape(tuple(shape))


def constant_blocks(shape: tuple, value: float, device: str) -> tuple:
    shape = tuple(shape)
    return (
        torch.zeros(shape, device=device),
        torch.ones(shape, device=device),
        torch.full(shape, value, dtype=torch.float32, device=device),
    )


def from_rows(rows: list, dtype: torch.dtype, device: str) -> torch.Tensor:
    return torch.tensor(rows, dtype=dtype, device=device)


def seeded_normal(seed: int, shape: tuple, device: str) -> torch.Tensor:
    torch.manual_seed(seed)
    return torch.randn(tuple(shape), device=device)


def ones_shaped_like(t: torch.Tensor, device: str) -> torch.Tensor:
    return torch.ones_like(t, device=device)
