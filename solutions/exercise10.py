"""Reference solution of exercise10 (tensors like others, seeds and leaves)."""

import torch


def like_family(t: torch.Tensor, value: float) -> tuple:
    return torch.zeros_like(t), torch.ones_like(t), torch.full_like(t, value)


def noise_like(t: torch.Tensor, seed: int) -> torch.Tensor:
    torch.manual_seed(seed)
    return torch.rand_like(t)


def seeded_digits(seed: int, n: int, device: str) -> torch.Tensor:
    torch.manual_seed(seed)
    return torch.randint(0, 10, (n,), device=device)


def make_leaf(rows: list, device: str) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32, device=device, requires_grad=True)


def leaf_and_result(t: torch.Tensor, scale: float) -> tuple:
    w = t.detach().clone().requires_grad_()
    return w, w * scale


def small_init(shape: list, seed: int, device: str) -> torch.Tensor:
    torch.manual_seed(seed)
    return (torch.randn(tuple(shape), device=device) * 0.01).requires_grad_()
