"""Answers from the course notes' comment (batch sizes added up), mm taken for @, * for @."""
q1 = (10, 3, 5)
q2 = (5, 3, 5)
q3 = ((1, 0), (3, 4))
q4 = (1, 3)
