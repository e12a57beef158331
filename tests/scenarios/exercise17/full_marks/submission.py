"""Full marks: shapes as tuples, dtypes both as names and as torch dtypes."""
import torch

q1 = (5,)
q2 = torch.int64
q3 = "error"
q4 = "error"
q5 = "float64"
q6 = 7
