"""Answers from the course notes: 0:1 read as "the first 2 lines/columns"."""
q1 = (2, 3)
q2 = (3, 2)
q3 = ((4, 4, 3), (4, 4, 6), (4, 4, 9))
q4 = (7, 8, 9)
