"""Broadcasting misread: the scales not lined up, out= ignored, a loop, a matrix product
for *, and shapes predicted from the left."""
import torch


def arithmetic(t1, t2):
    return t1 * t2, t1 * 4, t1.abs() - t2.abs(), t1 ** 2  # |a| - |b| is not |a - b|


def multiply_into(a, b, out):
    return a * b  # a new tensor; out is left as it was


def scale_channels(image, scale):
    out = image.clone()
    for c in range(3):
        out[..., c] *= scale[c]
    return out  # a loop, but right: scores


def scale_each_image(images, scales):
    return images * scales  # (n, h, w, 3) * (n, 3): lines up n with w


def outer_sum(a, b):
    return a + b  # (n,) + (m,)


q1 = (1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3)  # list repetition
q2 = "float32"
q3 = "error"
q4 = (2, 256, 256, 3)
q5 = "error"
