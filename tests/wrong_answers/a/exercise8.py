"""product_into returns the product without filling `out`; all_pairs loops over the first batch."""
import torch


def product_into(a, b, out):
    return a @ b


def all_pairs(a, b):
    return torch.stack([x.unsqueeze(0) @ b for x in a])
