"""Full marks: whole-tensor operations and broadcasting, dtypes written both ways."""
import torch


def arithmetic(t1, t2):
    return torch.mul(t1, t2), t1 * 4, torch.abs(t1 - t2), t1 ** 2


def multiply_into(a, b, out):
    torch.mul(a, b, out=out)
    return out


def scale_channels(image, scale):
    return image * scale


def scale_each_image(images, scales):
    return images * scales[:, None, None, :]


def outer_sum(a, b):
    return a.unsqueeze(1) + b


q1 = [4, 8, 12]
q2 = torch.int64
q3 = (256, 256, 3)
q4 = (2, 256, 256, 3)
q5 = (3, 4)
