"""Reference of exercise20: every answer is computed live by torch from the question's code
(grader.quiz), never typed in."""

from grader.quiz import value_of

__all__ = ["value_of"]
