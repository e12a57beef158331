"""Reference solution of exercise11 (in-place operations, detach and no_grad)."""

import torch


def add_in_place(t: torch.Tensor, value: float) -> torch.Tensor:
    return t.add_(value)


def add_out_of_place(t: torch.Tensor, value: float) -> torch.Tensor:
    return t + value


def sgd_step(w: torch.Tensor, grad: torch.Tensor, lr: float) -> torch.Tensor:
    with torch.no_grad():
        w -= lr * grad
    return w


def frozen_double(x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return 2 * x


def unit_length(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm().detach()


def double_sigmoid_grad(x: torch.Tensor) -> torch.Tensor:
    leaf = x.detach().clone().requires_grad_()
    (2 * torch.sigmoid(leaf)).sum().backward()
    assert leaf.grad is not None
    return leaf.grad
