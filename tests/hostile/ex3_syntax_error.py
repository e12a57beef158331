"""A syntax error.

Expected: both tasks are errors saying the file could not be loaded, with the
line of the error.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ SyntaxError
feedback: cube_grad ~ line 14
"""


def cube_grad(x)
    return x
