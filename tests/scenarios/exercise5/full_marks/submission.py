"""A student's correct solution, written differently from the reference."""
import torch


def column_means(t):
    return torch.mean(t, dim=0)


def channel_means(images):
    return images.sum(dim=-1) / images.shape[-1]


def row_summary(t):
    return (torch.sum(t, -1, keepdim=True), torch.mean(t, -1, keepdim=True), torch.std(t, -1, keepdim=True))


def center_rows(t):
    means = t.mean(dim=-1, keepdim=True)
    return t - means


def strongest_channel(images):
    return torch.max(images, dim=-1)  # a (values, indices) named tuple


def predicted_classes(scores):
    return torch.max(scores, dim=1).indices


def row_norms(t):
    return (t ** 2).sum(dim=1).sqrt(), t.norm()
