"""Reference solution of exercise8 (matrix products in all their forms)."""

import torch


def matrix_product(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a @ b


def dot_product(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return torch.dot(u, v)


def matrix_vector(m: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return m @ x


def vector_matrix(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    return x @ m


def product_into(a: torch.Tensor, b: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    torch.matmul(a, b, out=out)
    return out


def apply_to_batch(batch: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return batch @ w


def batch_times_vector(batch: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return batch @ v


def all_pairs(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a.unsqueeze(1) @ b.unsqueeze(0)
