"""cat where stack is meant and the reverse, reshape instead of permute, view on a transpose."""
import torch


def side_by_side(a, b):
    return torch.cat([a, b], dim=0)


def one_under_other(a, b):
    return torch.cat([a, b], dim=0)


def stack_three(a, b, c):
    return torch.cat([a, b, c])


def pair_up(a, b):
    return torch.stack([a, b], dim=-1)


def flatten_batch(x):
    return x.flatten()


def channels_last(x):
    n, c, h, w = x.shape
    return x.reshape(n, h, w, c)


def row_and_column(v):
    return v.unsqueeze(1), v.unsqueeze(0)


def transpose_flat(m):
    return m.T.view(-1)
