"""zero_negatives by multiplying with a mask instead of assigning through it."""


def zero_negatives(t):
    return t * (t >= 0)
