"""A student's correct solution, written differently from the reference."""
import torch


def seeded_weights_on(seed, shape, device):
    torch.manual_seed(seed)
    return torch.randn(*shape).to(device=device)


def layer_output(x, out_features, seed):
    torch.manual_seed(seed)
    layer = torch.nn.Linear(x.size(1), out_features)
    layer.to(x)  # a module moves to a tensor's device and dtype
    return layer(x)


def with_positions(x):
    return x + torch.arange(x.shape[-1]).to(x)


def append_ones_column(x):
    return torch.cat([x, torch.ones_like(x[:, :1])], dim=-1)


def to_host(t):
    return t.to("cpu")


def pick_device():
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"
