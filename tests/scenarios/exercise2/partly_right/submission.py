"""Partly right: seven answers are right; q6 keeps a 1 where the other shape has 5, q7
broadcasts sizes that clash, q9 says "error" for shapes that do broadcast."""

q1 = (5, 6, 4, 3, 7, 2)
q2 = (256, 256, 3)
q3 = (2, 256, 256, 3)
q4 = (6, 5)
q5 = "error"
q6 = (8, 7, 6, 1)
q7 = (5, 5)
q8 = (2, 4, 3)
q9 = "error"
q10 = "error"
