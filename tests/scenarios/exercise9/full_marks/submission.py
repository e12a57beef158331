"""A student's correct solution, written differently from the reference."""
import numpy as np
import torch


def shared_then_scaled(arr, factor):
    t = torch.as_tensor(arr)  # no copy for a CPU array of a supported dtype
    np.multiply(arr, factor, out=arr, casting="unsafe")
    return t


def copied_then_scaled(arr, factor):
    t = torch.from_numpy(arr).clone()
    arr *= factor
    return t


def to_float32(arr):
    return torch.tensor(arr, dtype=torch.float32)


def mean_of_counts(counts):
    return counts.to(torch.float32).mean(dim=0)


def as_python_number(t):
    return t.reshape(()).item()


def as_nested_lists(t):
    return t.numpy().tolist()


def numpy_median_rows(t):
    return torch.tensor(np.median(t.numpy(), axis=1), dtype=torch.float64)


def scaled_through_numpy(t, factor):
    a = t.numpy()
    a *= factor
