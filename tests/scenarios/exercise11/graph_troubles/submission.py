"""In place where a copy is wanted and the reverse, the norm left in the graph, mul_ on a saved output."""
import torch


def add_in_place(t, value):
    t = t + value
    return t


def add_out_of_place(t, value):
    return t.add_(value)


def sgd_step(w, grad, lr):
    return w - lr * grad


def frozen_double(x):
    return 2 * x


def unit_length(x):
    return x / x.norm()


def double_sigmoid_grad(x):
    leaf = x.detach().clone().requires_grad_(True)
    y = torch.sigmoid(leaf)
    y.mul_(2)
    y.sum().backward()
    return leaf.grad
