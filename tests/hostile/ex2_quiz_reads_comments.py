"""The broadcasting quiz answered by running it: the file reads its own question
comments and sets every qN to torch.broadcast_shapes of the shapes it finds (or "error").

Expected: 0 points: answers are read from the source as literals, never computed by
running the file; every question is told to write the answer itself.

exercise: exercise2
score: 0
status: q1=failed q5=failed q10=error
feedback: q1 ~ write the answer itself
"""

import ast
import linecache
import re

import torch

QUESTIONS = {
    1: "(1, 6, 4, 1, 7, 2) and (5, 6, 1, 3, 1, 2)", 2: "(256, 256, 3) and (3,)",
    3: "(2, 256, 256, 3) and (2, 1, 1, 3)", 4: "(6, 5) and (1, 5)", 5: "(256, 256, 3) and (256,)",
    6: "(8, 1, 6, 1) and (7, 1, 5)", 7: "(5, 4) and (4, 5)", 8: "(2, 1, 3) and (4, 1) and (3,)",
    9: "(5, 1, 4) and (1, 3, 1)", 10: "(2, 3) and (3, 2)",
}
for line in linecache.getlines(__file__):  # the rendered stub's "# Question N: ..." comments, if kept
    m = re.match(r"# Question (\d+):.*?((?:\([\d, ]*\)(?: and )?)+)", line)
    if m:
        QUESTIONS[int(m.group(1))] = m.group(2)


def answer(text):
    shapes = [ast.literal_eval(s) for s in re.findall(r"\([\d, ]*\)", text)]
    try:
        return tuple(torch.broadcast_shapes(*shapes))
    except RuntimeError:
        return "error"


for number, text in QUESTIONS.items():
    globals()[f"q{number}"] = answer(text)

q1 = answer(QUESTIONS[1])
q5 = answer(QUESTIONS[5])
