"""Reference solution of exercise7 (joining and reshaping)."""

import torch


def side_by_side(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.cat([a, b], dim=1)


def one_under_other(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.cat([a, b], dim=0)


def stack_three(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    return torch.stack([a, b, c])


def pair_up(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.cat([a.unsqueeze(-1), b.unsqueeze(-1)], dim=-1)


def flatten_batch(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1)


def channels_last(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 2, 3, 1)


def row_and_column(v: torch.Tensor) -> tuple:
    return v.unsqueeze(0), v.unsqueeze(1)


def transpose_flat(m: torch.Tensor) -> torch.Tensor:
    return m.T.reshape(-1)
