"""leaf_and_result marks the caller's tensor as requiring grad instead of a copy."""


def leaf_and_result(t, scale):
    w = t.requires_grad_()
    return w, w * scale
