"""Copies where memory must be shared and the reverse; float() of an int tensor; torch writes where NumPy should."""
import torch


def shared_then_scaled(arr, factor):
    return torch.tensor(arr) * factor


def copied_then_scaled(arr, factor):
    return torch.from_numpy(arr)


def as_python_number(t):
    return float(t)


def scaled_through_numpy(t, factor):
    t.mul_(factor)
