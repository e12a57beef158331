"""A student's correct solution, written differently from the reference."""
import torch


def like_family(t, value):
    return (torch.zeros(t.shape, dtype=t.dtype, device=t.device), torch.ones_like(t),
            torch.empty_like(t).fill_(value))


def noise_like(t, seed):
    torch.manual_seed(seed)
    return torch.rand(t.shape, dtype=t.dtype, device=t.device)


def seeded_digits(seed, n, device):
    torch.manual_seed(seed)
    return torch.randint(low=0, high=10, size=(n,), device=device)


def make_leaf(rows, device):
    return torch.tensor(rows, device=device).float().requires_grad_()


def leaf_and_result(t, scale):
    w = t.clone().detach()
    w.requires_grad = True
    return w, scale * w


def small_init(shape, seed, device):
    torch.manual_seed(seed)
    w = torch.randn(*shape, device=device)
    w *= 0.01
    w.requires_grad_(True)
    return w
