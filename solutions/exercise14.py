"""Reference solution of exercise14 (first steps with autograd); the questions' keys come
from running their code (grader.quiz)."""

import torch

from grader.quiz import value_of

__all__ = ["grad_after_two_backwards", "line_grads", "square_sum_grad", "value_of"]


def line_grads(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> tuple:
    w_leaf = w.detach().clone().requires_grad_(True)
    b_leaf = b.detach().clone().requires_grad_(True)
    y = w_leaf * x + b_leaf
    y.sum().backward()
    return y.detach(), w_leaf.grad, b_leaf.grad


def square_sum_grad(x: torch.Tensor) -> torch.Tensor:
    leaf = x.detach().clone().requires_grad_(True)
    (leaf * leaf).sum().backward()
    assert leaf.grad is not None
    return leaf.grad


def grad_after_two_backwards(x: torch.Tensor) -> torch.Tensor:
    leaf = x.detach().clone().requires_grad_(True)
    (leaf * leaf).sum().backward()
    (leaf * leaf).sum().backward()
    assert leaf.grad is not None
    return leaf.grad
