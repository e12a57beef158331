"""Literal answers that the file then rewrites while it runs: each qN is written as a
literal (a wrong one), and code after it puts the right answers in through globals(),
exec and a module __getattr__; a shape is also given as a bare int, (8) instead of (8,).

Expected: 0 points: the file is never run for a quiz; the literal written last at the
top level is the answer, and here every one is wrong or not a shape. A bare int is told
about the trailing comma.

exercise: exercise2
score: 0
status: q1=failed q2=failed q10=failed
feedback: q2 ~ trailing comma
"""

import sys

q1 = (1,)
q2 = (3)
q3 = (1,)
q4 = (1,)
q5 = (1,)
q6 = (1,)
q7 = (1,)
q8 = (1,)
q9 = (1,)
q10 = (1,)

globals()["q1"] = (5, 6, 4, 3, 7, 2)
globals().update(q2=(256, 256, 3), q3=(2, 256, 256, 3))
exec("q4 = (6, 5)\nq5 = 'error'")
setattr(sys.modules[__name__], "q6", (8, 7, 6, 5))
vars()["q7"] = "error"


def __getattr__(name):
    return {"q8": (2, 4, 3), "q9": (5, 3, 4), "q10": "error"}[name]


del q8, q9
