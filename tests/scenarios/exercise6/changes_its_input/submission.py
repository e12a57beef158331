"""Writes into the caller's tensor, uses clamp, and slices one past the end."""
import torch


def first_and_last_rows(t):
    return t[0], t[-1]


def pick_column(t, j):
    return t[:, j:j + 1]  # keeps the dimension: shape (rows, 1)


def every_other(t):
    return t[::2, ::2]  # even columns instead of odd


def top_left_block(t, k):
    return t[:k + 1, :k + 1]


def positives(t):
    return t[t >= 0]


def zero_negatives(t):
    return t.clamp(min=0)


def fill_first_columns(t, k, value):
    t[:, :k] = value  # changes the input
    return t
