"""view on a transpose, keepdim forgotten the other way, NumPy's float64 for torch.tensor, 0-dim promotion,
and a shape written as a list (a shape is a tuple)."""
import torch

q1 = (3, 4)
q2 = (6,)            # view after .t() raises
q3 = (256, 3, 5)     # permute read backwards
q4 = [1, 4, 3]       # the right sizes, but a list
q5 = (2, 6, 3)       # that would be stack
q6 = (5, 256, 256, 1)
q7 = (5, 3, 2)
q8 = (2, 1)          # a vector is not a column
q9 = "float64"
q10 = "int64"
q11 = torch.float32
q12 = "float32"
