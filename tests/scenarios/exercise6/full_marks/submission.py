"""A student's correct solution, written differently from the reference."""
import torch


def first_and_last_rows(t):
    return t[0, :], t[t.shape[0] - 1]


def pick_column(t, j):
    return t[..., j]


def every_other(t):
    return t[0::2][:, 1::2]


def top_left_block(t, k):
    return t[0:k, 0:k]


def positives(t):
    return t[t > 0]


def zero_negatives(t):
    out = t.clone()
    mask = out < 0
    out[mask] = 0
    return out


def fill_first_columns(t, k, value):
    out = t.detach().clone()
    out[:, 0:k] = value
    return out
