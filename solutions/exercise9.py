"""Reference solution of exercise9 (NumPy, Python numbers and dtypes)."""

import numpy as np
import torch


def shared_then_scaled(arr: np.ndarray, factor: float) -> torch.Tensor:
    t = torch.from_numpy(arr)
    arr *= factor
    return t


def copied_then_scaled(arr: np.ndarray, factor: float) -> torch.Tensor:
    t = torch.tensor(arr)
    arr *= factor
    return t


def to_float32(arr: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(arr).float()


def mean_of_counts(counts: torch.Tensor) -> torch.Tensor:
    return counts.float().mean(dim=0)


def as_python_number(t: torch.Tensor) -> object:
    return t.item()


def as_nested_lists(t: torch.Tensor) -> list:
    return t.tolist()


def numpy_median_rows(t: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(np.median(t.numpy(), axis=1))


def scaled_through_numpy(t: torch.Tensor, factor: float) -> None:
    a = t.numpy()
    a *= factor
