"""Raises: a quiz has no functions, so "an exception inside a function" becomes an
exception while the file loads: q5 is computed with torch.broadcast_shapes, which raises
for shapes that do not broadcast. Every question reports the error and the student's line."""
import torch

q1 = (5, 6, 4, 3, 7, 2)
q2 = (256, 256, 3)
q3 = (2, 256, 256, 3)
q4 = (6, 5)
q5 = tuple(torch.broadcast_shapes((256, 256, 3), (256,)))
q6 = (8, 7, 6, 5)
q7 = "error"
q8 = (2, 4, 3)
q9 = (5, 3, 4)
q10 = "error"
