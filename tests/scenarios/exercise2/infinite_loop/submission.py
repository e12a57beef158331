"""Infinite loop: a quiz has no functions, so the endless loop runs while the file loads
(a search for q6 that never stops). Loading times out (import_timeout from course.yaml,
10 s); every question reports the timeout and asks about a top-level loop."""

q1 = (5, 6, 4, 3, 7, 2)
q2 = (256, 256, 3)
q3 = (2, 256, 256, 3)
q4 = (6, 5)
q5 = "error"

size = 1
while True:  # meant to stop at the first size that matches, but never checks
    size += 1
q6 = (8, 7, 6, size)
