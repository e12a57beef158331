"""Every answer right, in the forms a student might write them."""
import torch

q1 = (3, 4)
q2 = "error"
q3 = (3, 5, 256)
q4 = (1, 4, 3)
q5 = (6, 3)
q6 = (5, 256, 256)
q7 = (5, 3, 2)
q8 = (2,)
q9 = torch.float32
q10 = "torch.float32"
q11 = "Float16"
q12 = "error"
