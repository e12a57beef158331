"""Raises BaseException subclasses that a careless `except Exception` lets through:
a custom one in cube_grad, KeyboardInterrupt in cube_second_grad.

Expected: both tasks are errors naming the exception; the grader goes on.

exercise: exercise3
score: 0
status: cube_grad=error cube_second_grad=error
feedback: cube_grad ~ Escape
feedback: cube_second_grad ~ KeyboardInterrupt
"""


class Escape(BaseException):
    pass


def cube_grad(x):
    raise Escape("stop the grader")


def cube_second_grad(x):
    raise KeyboardInterrupt
