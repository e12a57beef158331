"""Slices and from_numpy taken for copies, detach taken to keep requires_grad, and an
in-place change of a leaf expected to just work."""
q1 = (1.0, 2.0)
q2 = (1.0, 1.0)
q3 = True
q4 = (2.0, 3.0)
