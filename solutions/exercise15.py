"""Reference solution of exercise15 (element-wise arithmetic and broadcasting); the
questions' keys come from running their code (grader.quiz)."""

import torch

from grader.quiz import dtype_of, shape_of, value_of

__all__ = ["arithmetic", "dtype_of", "multiply_into", "outer_sum", "scale_channels", "scale_each_image", "shape_of",
           "value_of"]


def arithmetic(t1: torch.Tensor, t2: torch.Tensor) -> tuple:
    return t1 * t2, t1 * 4, (t1 - t2).abs(), t1.pow(2)


def multiply_into(a: torch.Tensor, b: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    return torch.mul(a, b, out=out)


def scale_channels(image: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return image * scale


def scale_each_image(images: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    return images * scales.reshape(-1, 1, 1, 3)


def outer_sum(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a[:, None] + b
