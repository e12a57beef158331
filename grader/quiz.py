"""Answer keys of quiz questions, computed live by torch from the question's own code.

Reference solutions of quiz exercises import these: the key is never typed in, so it
cannot disagree with torch. The code is the instructor's (from the exercise YAML, or a
variant drawn from it), run in the grader's process with torch and NumPy in scope;
student code never reaches it.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
import torch

ERRORS = (RuntimeError, ValueError, TypeError, IndexError)
"""What "raises" means in a question (NotImplementedError is a RuntimeError)."""


def run(code: str) -> Any:
    """Execute `code` (simple statements, one a line or separated by `;`; indentation is
    ignored so that a question can show it indented) and return the value of its last line,
    which must be an expression."""
    tree = ast.parse("\n".join(line.strip() for line in code.splitlines()), mode="exec")
    last_line = tree.body.pop() if tree.body else None
    if not isinstance(last_line, ast.Expr):
        raise ValueError(f"the question's code must end with an expression: {code!r}")
    scope: dict[str, Any] = {"torch": torch, "np": np}
    last = ast.Expression(last_line.value)
    exec(compile(tree, "<question>", "exec"), scope)  # noqa: S102 - instructor-written code, never student input
    return eval(compile(last, "<question>", "eval"), scope)  # noqa: S307 - same


def shape_of(expr: str) -> object:
    """The shape of the code's result as a tuple, or "error" if torch raises."""
    try:
        result = run(expr)
    except ERRORS:
        return "error"
    return tuple(int(d) for d in result.shape)


def dtype_of(expr: str) -> str:
    """The dtype name of the code's result ("float32", ...), or "error" if torch raises."""
    try:
        result = run(expr)
    except ERRORS:
        return "error"
    return str(result.dtype).removeprefix("torch.")


def value_of(expr: str) -> object:
    """The code's result as a plain literal: a number, True/False, a tuple of numbers for a
    tensor with dimensions, a shape as a tuple; "error" if torch raises."""
    try:
        result = run(expr)
    except ERRORS:
        return "error"
    return _plain(result)


def _plain(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return _plain(value.detach().cpu().tolist())
    if isinstance(value, torch.dtype):
        return str(value).removeprefix("torch.")
    if isinstance(value, (list, tuple)):  # torch.Size included
        return tuple(_plain(v) for v in value)
    if isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"a question's answer must be a number, True/False, text or a tensor, not {type(value).__name__}")
