"""Reference for exercise13: shapes and dtypes, computed live by torch.

The answer key is never typed in: each question's expression (from the YAML,
written by the instructor) is evaluated in the grader's process by grader.quiz.
"""

from grader.quiz import dtype_of, shape_of

__all__ = ["dtype_of", "shape_of"]
