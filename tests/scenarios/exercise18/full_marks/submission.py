"""Full marks: a range keeps its dimension and stops before its end; values as nested lists."""
q1 = (1, 3)
q2 = (3, 1)
q3 = [[4, 2, 3], [4, 5, 6], [4, 8, 9]]
q4 = (7, 8, 9)
