"""A training step with the gradients worked out by hand (no backward pass): the values
are right, but the lesson is autograd.

Expected: train_step scores 0 with the rule's feedback; mse_loss keeps its points.

exercise: exercise16
score: 2
status: mse_loss=passed train_step=failed
feedback: train_step ~ call backward() on the loss
"""

import torch


def mse_loss(pred, target):
    return ((pred - target) ** 2).mean()


def train_step(x, target, w1, b1, w2, b2, lr):
    with torch.no_grad():
        h = torch.relu(x @ w1 + b1)
        pred = h @ w2 + b2
        loss = ((pred - target) ** 2).mean()
        d = 2 * (pred - target) / pred.numel()
        gw2, gb2 = h.T @ d, d.sum(0)
        dh = (d @ w2.T) * (h > 0)
        gw1, gb1 = x.T @ dh, dh.sum(0)
        w1 -= lr * gw1
        b1 -= lr * gb1
        w2 -= lr * gw2
        b2 -= lr * gb2
    return loss
