"""A student's correct solution, written differently from the reference."""
import torch


def side_by_side(a, b):
    return torch.cat((a, b), dim=-1)


def one_under_other(a, b):
    return torch.cat((a, b))


def stack_three(a, b, c):
    return torch.stack((a, b, c), dim=0)


def pair_up(a, b):
    return torch.cat([a[..., None], b[..., None]], dim=a.dim())


def flatten_batch(x):
    return x.view(len(x), -1)


def channels_last(x):
    return x.transpose(1, 2).transpose(2, 3)


def row_and_column(v):
    return v[None, :], v[:, None]


def transpose_flat(m):
    return m.t().contiguous().view(-1)
