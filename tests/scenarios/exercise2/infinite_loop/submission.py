"""Infinite loop: a search for q6 that never stops, at the top level. The file is never run
for a quiz (the answers are read from the source), so there is no timeout: q1 to q5 score,
q6 is computed (write the answer itself) and q7 to q10 are not defined."""

q1 = (5, 6, 4, 3, 7, 2)
q2 = (256, 256, 3)
q3 = (2, 256, 256, 3)
q4 = (6, 5)
q5 = "error"

size = 1
while True:  # meant to stop at the first size that matches, but never checks
    size += 1
q6 = (8, 7, 6, size)
