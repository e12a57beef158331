"""A student's correct solution, written differently from the reference."""
import torch


def matrix_product(a, b):
    return torch.matmul(a, b)


def dot_product(u, v):
    return u @ v


def matrix_vector(m, x):
    return torch.mv(m, x)


def vector_matrix(x, m):
    return x.matmul(m)


def product_into(a, b, out):
    return torch.matmul(a, b, out=out)


def apply_to_batch(batch, w):
    return torch.matmul(batch, w)


def batch_times_vector(batch, v):
    return (batch @ v.unsqueeze(-1)).squeeze(-1)


def all_pairs(a, b):
    return a[:, None] @ b[None]
