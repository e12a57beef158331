"""Wrong types (the quiz's "dtype"): floats in a shape, the shape written as a string,
"error" misspelt as "eror", a set of sizes, True instead of "error" and None; each gets
feedback on the form of the answer. Four answers are right."""

q1 = (5.0, 6.0, 4.0, 3.0, 7.0, 2.0)
q2 = "(256, 256, 3)"
q3 = (2, 256, 256, 3)
q4 = (6, 5)
q5 = "eror"
q6 = {8, 7, 6, 5}
q7 = True
q8 = (2, 4, 3)
q9 = None
q10 = "error"
