"""The right tensors, but the array is left unscaled; a copy of the array scaled instead of t's view."""
import torch


def shared_then_scaled(arr, factor):
    return torch.from_numpy(arr.copy() * factor)


def copied_then_scaled(arr, factor):
    return torch.tensor(arr)


def as_python_number(t):
    return t.tolist()


def scaled_through_numpy(t, factor):
    a = t.numpy().copy()
    a *= factor
