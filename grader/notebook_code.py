"""The Python code of a notebook cell, as Jupyter runs it.

IPython turns a cell into Python before running it (`%magic`, `!shell`, `x = !ls`,
`%%capture`, `obj?`); `IPython.core.inputtransformer2.TransformerManager`, which
nbconvert relies on too, does exactly that here. What the resulting calls would do
means nothing in grading (no shell, no plots, no extensions), so they are neutralised,
as the README documents:

- a line magic or shell escape on a line of its own becomes `pass` (with the original
  as a comment); `%time STATEMENT` runs the statement, as in Jupyter;
- a shell escape or magic used as a value is empty: `x = !ls` sets `x = []`,
  `y = %who_ls` sets `y = None`;
- a `%%capture` or `%%time` cell runs its body (its functions are defined, as in
  Jupyter); any other cell magic (`%%bash`, `%%html`, `%%timeit`, `%%writefile`, ...)
  is not Python and is commented out.

Line numbers are kept: line N of the result is line N of the cell.
"""

from __future__ import annotations

import ast
from functools import cache
from typing import Any

from grader.errors import require_extra

PYTHON_CELL_MAGICS = frozenset({"capture", "time"})
"""Cell magics whose body Jupyter runs in the notebook's namespace: their body is kept."""
PYTHON_LINE_MAGICS = frozenset({"time"})
"""Line magics that run their statement in the notebook's namespace."""
EMPTY_VALUE = {"getoutput": "[]", "system": "None", "run_line_magic": "None", "run_cell_magic": "None"}
"""What an IPython call used as a value becomes: an empty output."""


@cache
def _manager() -> Any:
    require_extra("reading notebooks as Jupyter runs them", ("IPython",), "nbgrader")
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


def cell_python(source: str) -> str:
    """A code cell's source as the Python that grading runs (see the module's docstring)."""
    lines = source.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        head = lines[first].strip()
        name = head[2:].split()[0] if head[2:].split() else ""
        if name in PYTHON_CELL_MAGICS:
            body = cell_python("\n".join(lines[first + 1:]))
            return "\n".join([*lines[:first], f"pass  # not run by the grader: {head}", body.rstrip("\n")]) + "\n"
        return "\n".join(f"# {line}" for line in lines) + "\n"  # another language, not Python
    return _neutralised(_manager().transform_cell(source))


def _ipython_call(node: ast.AST) -> tuple[str, list[Any]] | None:
    """(method, literal arguments) of a `get_ipython().method(...)` call, else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    owner = node.func.value
    if not (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "get_ipython"
            and not owner.args and not owner.keywords):
        return None
    args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
    return node.func.attr, args


def _as_written(method: str, args: list[Any]) -> str:
    """The line the student wrote, for the comment that replaces it."""
    if method in ("system", "getoutput") and args and isinstance(args[0], str):
        return f"!{args[0]}"
    if method == "run_line_magic" and len(args) >= 2 and isinstance(args[0], str):
        return f"%{args[0]} {args[1] or ''}".rstrip()
    return f"get_ipython().{method}(...)"


def _neutralised(code: str) -> str:
    """Replace every `get_ipython()` call by what it means in grading, keeping line numbers."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return code  # the caller reports it as not valid Python
    edits: list[tuple[int, int, int, int, str]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Expr) and (call := _ipython_call(child.value)) is not None:
                method, args = call
                if (method == "run_line_magic" and len(args) >= 2 and args[0] in PYTHON_LINE_MAGICS
                        and isinstance(args[1], str) and "\n" not in args[1]):
                    text = _neutralised(args[1]).rstrip("\n")
                else:
                    text = "pass  # not run by the grader: " + _as_written(method, args).replace("\n", "\\n")
                edits.append((child.lineno, child.col_offset, child.end_lineno or child.lineno,
                              child.end_col_offset or 0, text))
                continue
            if isinstance(child, ast.expr) and (call := _ipython_call(child)) is not None:
                edits.append((child.lineno, child.col_offset, child.end_lineno or child.lineno,
                              child.end_col_offset or 0, EMPTY_VALUE.get(call[0], "None")))
                continue
            visit(child)

    visit(tree)
    if not edits:
        return code
    lines = code.splitlines(keepends=True)
    for start, col, end, end_col, text in sorted(edits, reverse=True):
        # columns are UTF-8 byte offsets
        head = lines[start - 1].encode()[:col].decode(errors="replace")
        tail = lines[end - 1].encode()[end_col:].decode(errors="replace")
        lines[start - 1:end] = [head + text + "\n" * (end - start) + tail]
    return "".join(lines)
