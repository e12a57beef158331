"""The final quiz answered by evaluating each question: the expressions are copied from
the questions and eval'd, so shape and dtype come out of torch itself.

Expected: 0 points: an answer must be written in the file as a literal, e.g. (2, 3) or
"float32"; a computed one is refused whatever its value.

exercise: exercise13
score: 0
status: q1=failed q9=failed q12=failed
feedback: q1 ~ write the answer itself
feedback: q9 ~ write the answer itself
"""

import numpy as np
import torch

EXPRESSIONS = {
    "q1": "torch.arange(12).view(3, -1)", "q2": "torch.zeros(2, 3).t().view(6)",
    "q9": "torch.tensor([1, 2.5])", "q10": "torch.arange(5) / 2",
    "q11": "torch.ones(3, dtype=torch.int32) + torch.ones(3, dtype=torch.float16)",
    "q12": "torch.arange(6).mean()",
}


def shape(expr):
    try:
        return tuple(eval(expr).shape)
    except Exception:
        return "error"


def dtype(expr):
    try:
        return str(eval(expr).dtype).removeprefix("torch.")
    except Exception:
        return "error"


q1 = shape(EXPRESSIONS["q1"])
q2 = shape(EXPRESSIONS["q2"])
q3 = eval("tuple(torch.zeros(2, 3, 4).permute(2, 0, 1).shape)")
q4, q5 = shape("torch.zeros(1)"), shape("torch.zeros(1)")
q6 = q7 = q8 = (1,)
q9 = dtype(EXPRESSIONS["q9"])
q10 = dtype(EXPRESSIONS["q10"])
q11 = dtype(EXPRESSIONS["q11"])
q12 = dtype(EXPRESSIONS["q12"])
_ = (np, torch)  # in scope for the eval
