"""Typical slips: the wrong dim, keepdim forgotten, the population std, argmax over samples."""
import torch


def column_means(t):
    return t.mean(dim=1)  # averages each row instead


def channel_means(images):
    return images.mean(dim=-1)  # right


def row_summary(t):
    return t.sum(dim=1, keepdim=True), t.mean(dim=1, keepdim=True), t.std(dim=1, keepdim=True, unbiased=False)


def center_rows(t):
    return t - t.mean(dim=1)  # no keepdim: lines up with the columns


def strongest_channel(images):
    values, indices = torch.max(images, dim=0)  # over the batch
    return values, indices


def predicted_classes(scores):
    return scores.argmax(dim=0)


def row_norms(t):
    return t.abs().sum(dim=1), t.abs().sum()  # L1, not L2
