"""Wrong shape: q1 copies the first shape, q2 gives only the channel dimension, q8 writes
the right sizes in the wrong order; the other seven answers are right."""

q1 = (1, 6, 4, 1, 7, 2)
q2 = (3,)
q3 = (2, 256, 256, 3)
q4 = (6, 5)
q5 = "error"
q6 = (8, 7, 6, 5)
q7 = "error"
q8 = (3, 4, 2)
q9 = (5, 3, 4)
q10 = "error"
