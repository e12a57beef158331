"""Reference for exercise13: shapes and dtypes, computed live by torch.

The answer key is never typed in: each question's expression (from the YAML,
written by the instructor) is evaluated here, in the grader's process, with
only torch and NumPy in scope.
"""

import numpy as np
import torch

_SCOPE = {"torch": torch, "np": np}
_ERRORS = (RuntimeError, ValueError, TypeError, IndexError)


def _evaluate(expr: str) -> object:
    return eval(expr, dict(_SCOPE))  # noqa: S307 - instructor-written expressions, never student input


def shape_of(expr: str) -> object:
    """The shape of the expression's result as a tuple, or "error" if torch raises."""
    try:
        result = _evaluate(expr)
    except _ERRORS:
        return "error"
    return tuple(int(d) for d in result.shape)


def dtype_of(expr: str) -> str:
    """The dtype name of the expression's result ("float32", ...), or "error" if torch raises."""
    try:
        result = _evaluate(expr)
    except _ERRORS:
        return "error"
    return str(result.dtype).removeprefix("torch.")
