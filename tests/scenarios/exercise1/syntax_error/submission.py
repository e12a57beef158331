"""Syntax error: a missing colon in one function; the file cannot be loaded, so every
task reports the error with its line."""
import torch


def evenly_spaced(start, end, steps, device):
    return torch.linspace(start, end, steps, device=device)


def counting_block(n, shape, device)
    return torch.arange(n, device=device).reshape(shape)


def constant_blocks(shape, value, device):
    return torch.zeros(shape, device=device), torch.ones(shape, device=device), torch.full(shape, value, device=device)
