"""Syntax error: an unclosed bracket; the file cannot be loaded, so both tasks report the
error with its line."""
import torch


def cube_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward(
    return leaf.grad


def cube_second_grad(x):
    raise NotImplementedError("cube_second_grad: write your code here")
