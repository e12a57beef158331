"""Copies where memory should be shared and the reverse; dtypes and containers left as they come."""
import numpy as np
import torch


def shared_then_scaled(arr, factor):
    t = torch.tensor(arr)
    arr *= factor
    return t


def copied_then_scaled(arr, factor):
    t = torch.from_numpy(arr)
    arr *= factor
    return t


def to_float32(arr):
    return torch.from_numpy(arr)


def mean_of_counts(counts):
    return counts.mean(dim=0)


def as_python_number(t):
    return t


def as_nested_lists(t):
    return list(t)


def numpy_median_rows(t):
    return t.median(dim=1).values
