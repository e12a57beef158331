"""Full marks, in every accepted form: tuples, a list, a torch.Size computed by torch,
and "error" written with capitals and stray spaces."""
import torch

q1 = (5, 6, 4, 3, 7, 2)
q2 = torch.broadcast_shapes((256, 256, 3), (3,))  # a torch.Size is a tuple too
q3 = (2, 256, 256, 3)
q4 = [6, 5]
q5 = "Error "
q6 = (8, 7, 6, 5)
q7 = "ERROR"
q8 = (2, 4, 3)
q9 = (5, 3, 4)
q10 = "error"
