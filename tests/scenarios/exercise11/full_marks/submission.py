"""A student's correct solution, written differently from the reference."""
import torch


def add_in_place(t, value):
    t += value
    return t


def add_out_of_place(t, value):
    return torch.add(t, value)


def sgd_step(w, grad, lr):
    w.data.sub_(lr * grad)
    return w


def frozen_double(x):
    return 2 * x.detach()


def unit_length(x):
    norm = torch.sqrt((x.detach() ** 2).sum())
    return x / norm


def double_sigmoid_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    y = torch.sigmoid(leaf) * 2
    (grad,) = torch.autograd.grad(y.sum(), leaf)
    return grad
