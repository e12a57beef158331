"""The classic slips: gradients never zeroed, parameters rebound instead of updated in
place, and the loss summed instead of averaged."""
import torch


def mse_loss(pred, target):
    return ((pred - target) ** 2).sum()


def train_step(x, target, w1, b1, w2, b2, lr):
    loss = ((torch.relu(x @ w1 + b1) @ w2 + b2 - target) ** 2).mean()
    loss.backward()
    w1 = w1 - lr * w1.grad  # a new tensor: the caller's w1 never changes
    return loss.detach()


def train(x, target, w1, b1, w2, b2, lr, steps):
    losses = []
    for _ in range(steps):
        loss = ((torch.relu(x @ w1 + b1) @ w2 + b2 - target) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in (w1, b1, w2, b2):
                p -= lr * p.grad  # never zeroed: the gradients pile up
        losses.append(loss.detach())
    return torch.stack(losses)


q1 = (64, 4)
q2 = 1.2
q3 = True
