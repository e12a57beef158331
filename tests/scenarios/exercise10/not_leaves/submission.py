"""requires_grad on the wrong tensor, scaling after marking, forgetting the seed or the dtype."""
import torch


def like_family(t, value):
    return torch.zeros(t.shape), torch.ones(t.shape), torch.full(t.shape, value)


def noise_like(t, seed):
    return torch.rand_like(t)  # no seed


def seeded_digits(seed, n, device):
    torch.manual_seed(seed)
    return torch.randint(0, 9, (n,), device=device)  # 9 is never drawn


def make_leaf(rows, device):
    return torch.tensor(rows, device=device, requires_grad=True)


def leaf_and_result(t, scale):
    w = t.detach().clone()
    y = w * scale
    return w.requires_grad_(), y  # y was computed before w required grad


def small_init(shape, seed, device):
    torch.manual_seed(seed)
    return torch.randn(shape, device=device, requires_grad=True) * 0.01
