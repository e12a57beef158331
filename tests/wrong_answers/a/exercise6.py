"""zero_negatives without a boolean mask (arithmetic on the sign instead)."""


def zero_negatives(t):
    return (t + t.abs()) / 2
