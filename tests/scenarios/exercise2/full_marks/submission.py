"""Full marks, in every accepted form: tuples, a torch.Size literal, an annotated
assignment, and "error" written with capitals and stray spaces."""
import torch

q1 = (5, 6, 4, 3, 7, 2)
q2 = torch.Size([256, 256, 3])  # a torch.Size written out is a tuple too
q3 = (2, 256, 256, 3)
q4: tuple[int, ...] = (6, 5)
q5 = "Error "
q6 = (8, 7, 6, 5)
q7 = "ERROR"
q8 = (2, 4, 3)
q9 = (5, 3, 4)
q10 = "error"
