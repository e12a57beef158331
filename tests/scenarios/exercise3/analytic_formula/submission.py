"""The formula instead of autograd: right values, zero points."""
import torch


def cube_grad(x):
    return 3 * x**2


def cube_second_grad(x):
    return 6 * x
