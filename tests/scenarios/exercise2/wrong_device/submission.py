"""Devices, for a quiz: the student works the answers out with tensors on the meta device
(shapes without data). Answers are read from the source, never computed by running it:
q1 to q3 are expressions, not written answers, and each is told to write the answer itself."""
import torch

meta = "meta"
q1 = (torch.zeros(1, 6, 4, 1, 7, 2, device=meta) + torch.zeros(5, 6, 1, 3, 1, 2, device=meta)).shape
q2 = tuple((torch.zeros(256, 256, 3, device=meta) * torch.zeros(3, device=meta)).shape)
q3 = torch.zeros(2, 256, 256, 3, device=meta) + torch.zeros(2, 1, 1, 3, device=meta)
q4 = (6, 5)
q5 = "error"
q6 = (8, 7, 6, 5)
q7 = "error"
q8 = (2, 4, 3)
q9 = (5, 3, 4)
q10 = "error"
