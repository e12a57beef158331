"""Reference for exercise2: broadcast shapes, computed live by torch.

The answer key is never typed in: torch.broadcast_shapes gives the shape and
real tensors, added together, must agree with it.
"""

import torch


def broadcast_result(shapes: list) -> object:
    shapes = [tuple(int(d) for d in s) for s in shapes]
    try:
        predicted: object = tuple(torch.broadcast_shapes(*shapes))
    except RuntimeError:
        predicted = "error"
    try:
        total = torch.zeros(shapes[0])
        for shape in shapes[1:]:
            total = total + torch.zeros(shape)
        actual: object = tuple(total.shape)
    except RuntimeError:
        actual = "error"
    if predicted != actual:
        raise AssertionError(f"torch.broadcast_shapes says {predicted}, real tensors say {actual} for {shapes}")
    return predicted
