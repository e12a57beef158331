"""Reference solution of exercise6 (indexing, slicing and masks)."""

import torch


def first_and_last_rows(t: torch.Tensor) -> tuple:
    return t[0], t[-1]


def pick_column(t: torch.Tensor, j: int) -> torch.Tensor:
    return t[:, j]


def every_other(t: torch.Tensor) -> torch.Tensor:
    return t[::2, 1::2]


def top_left_block(t: torch.Tensor, k: int) -> torch.Tensor:
    return t[:k, :k]


def positives(t: torch.Tensor) -> torch.Tensor:
    return t[t > 0]


def zero_negatives(t: torch.Tensor) -> torch.Tensor:
    out = t.clone()
    out[out < 0] = 0
    return out


def fill_first_columns(t: torch.Tensor, k: int, value: float) -> torch.Tensor:
    out = t.clone()
    out[:, :k] = value
    return out
