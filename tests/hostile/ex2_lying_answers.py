"""Quiz answers that claim to equal anything: a tuple subclass and a str subclass
whose __eq__ is always true and whose __hash__ collides, plus objects that
pretend to be torch.Size.

Expected: 0 points: answers must be plain tuples of ints or the plain string
"error", checked by type in the harness; every question fails.

exercise: exercise2
score: 0
status: q1=failed q2=failed q3=failed q4=failed q5=failed q6=failed q7=failed q8=failed q9=failed q10=failed
"""

import torch


class Always(tuple):
    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0


class AlwaysStr(str):
    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0


class FakeSize:
    __class__ = torch.Size

    def __eq__(self, other):
        return True


q1 = Always((1,))
q2 = AlwaysStr("error")
q3 = FakeSize()
q4 = Always()
q5 = AlwaysStr("")
q6 = Always((0,))
q7 = FakeSize()
q8 = Always((2, 3))
q9 = AlwaysStr("(2, 3)")
q10 = Always()
