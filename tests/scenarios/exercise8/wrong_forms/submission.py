"""Elementwise * for @, a rebound `out`, a column for a vector, and einsum."""
import torch


def matrix_product(a, b):
    return a * b


def dot_product(u, v):
    return u * v


def matrix_vector(m, x):
    return m @ x.reshape(-1, 1)


def vector_matrix(x, m):
    return m @ x


def product_into(a, b, out):
    out = a @ b
    return out


def apply_to_batch(batch, w):
    return torch.stack([m @ w for m in batch])  # right, with a loop


def batch_times_vector(batch, v):
    return batch @ v


def all_pairs(a, b):
    return torch.einsum("anm,bmk->abnk", a, b)
