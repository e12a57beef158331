"""Syntax error: a missing comma in q3; the file cannot be parsed, so every question
reports the error with its line."""

q1 = (5, 6, 4, 3, 7, 2)
q2 = (256, 256, 3)
q3 = (2, 256, 256 3)
q4 = (6, 5)
q5 = "error"
