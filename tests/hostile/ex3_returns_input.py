"""Returns the input itself (no gradient at all), hoping the checker compares a
tensor with itself.

Expected: 0 points: the values differ from the reference's.

exercise: exercise3
score: 0
status: cube_grad=failed cube_second_grad=failed
feedback: cube_grad ~ [values]
"""


def _autograd_alibi(x):
    """A real backward pass, so that the "use autograd" rule is satisfied and the values decide."""
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()


def cube_grad(x):
    _autograd_alibi(x)
    return x


def cube_second_grad(x):
    _autograd_alibi(x)
    return x
