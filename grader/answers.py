"""Quiz answers read from the submission's source text, in the parent, never by running it.

An `answer` task asks the student to *write* a value (`q1 = (2, 3)`); a file
that computes it (`torch.broadcast_shapes`, `eval` of the question) must not
score. So the answer is the literal on the right of the last top-level
assignment to the task's name, parsed with `ast` and evaluated by
`ast.literal_eval`, plus two spellings a quiz about torch needs: a dtype
(`torch.float32`) and a `torch.Size([...])` of literals. Nothing else in the
file matters: a later `globals()['q1'] = ...` is never run, and any other
expression is reported as "computed" with the feedback to write the answer.

The result has the form the child's encoder gives (`child.encode`), so the
comparison (`compare.compare_answer`) reads both alike.
"""

from __future__ import annotations

import ast
from typing import Any

import torch

from grader.boundary import encode
from grader.compare import UNWRITTEN


class _NotLiteral(ValueError):
    """The expression is not a value written in the file."""


def _literal(node: ast.expr) -> Any:
    """The value of a literal expression; dtypes and torch.Size of literals included."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "torch":
        value = getattr(torch, node.attr, None)
        if isinstance(value, torch.dtype):
            return value
        raise _NotLiteral(node.attr)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "Size" \
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch" \
            and len(node.args) <= 1 and not node.keywords:
        sizes = _literal(node.args[0]) if node.args else ()
        if not isinstance(sizes, (tuple, list)) or not all(type(d) is int and d >= 0 for d in sizes):
            raise _NotLiteral("torch.Size")
        return torch.Size(sizes)
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_literal(item) for item in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise _NotLiteral(type(node).__name__) from None


def _stored_names(node: ast.AST, into_functions: bool = False) -> set[str]:
    """Names a statement binds in the module's namespace (loops, `with`, nested blocks, imports;
    a function's or class's own body only with `into_functions`)."""
    names: set[str] = set()
    todo = [node]
    while todo:
        sub = todo.pop()
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            names.add(sub.id)
        elif isinstance(sub, ast.alias):
            names.add((sub.asname or sub.name).split(".")[0])
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            names.add(getattr(sub, "name", ""))
            if not into_functions:
                continue
        todo.extend(ast.iter_child_nodes(sub))
    return names


def _bindings(tree: ast.Module) -> dict[str, tuple[ast.expr | None, int]]:
    """For every name bound at the top level: the expression of its last binding (None when
    that binding is not a plain `name = expression`) and the line."""
    found: dict[str, tuple[ast.expr | None, int]] = {}
    for stmt in tree.body:
        pairs: list[tuple[ast.expr, ast.expr | None]] = []
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Tuple) and isinstance(stmt.value, ast.Tuple) \
                        and len(target.elts) == len(stmt.value.elts) \
                        and not any(isinstance(e, ast.Starred) for e in (*target.elts, *stmt.value.elts)):
                    pairs.extend(zip(target.elts, stmt.value.elts, strict=True))
                else:
                    pairs.append((target, stmt.value))
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            pairs.append((stmt.target, stmt.value))
        for target, value in pairs:
            if isinstance(target, ast.Name):
                found[target.id] = (value, stmt.lineno)
            else:
                for name in _stored_names(target):
                    found[name] = (None, stmt.lineno)
        if not pairs:
            for name in _stored_names(stmt):
                found[name] = (None, stmt.lineno)
    return found


def read_answers(source: str, names: list[str]) -> dict[str, dict[str, Any]]:
    """Each answer task's result, as the child would have sent it: `{"answer": encoded}`,
    or `{"missing": why}` when the file cannot be parsed or never sets the name."""
    if not names:  # no quiz in this exercise: nothing to parse
        return {}
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        where = f" at line {exc.lineno}" if exc.lineno else ""
        why = f"your file has a syntax error{where} ({exc.msg}): fix it so that your answers can be read"
        return {name: {"missing": why} for name in names}
    except (ValueError, MemoryError, RecursionError):
        return {name: {"missing": "your file could not be read as Python (too deeply nested or "
                                  "containing a null byte)"} for name in names}
    found = _bindings(tree)
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        if name not in found:
            nested = any(name in _stored_names(stmt, into_functions=True) for stmt in tree.body)
            results[name] = {"missing": f"{name} is not defined in your file" + (
                f"; write `{name} = ...` at the top level of the file, not inside a block" if nested else "")}
            continue
        node, line = found[name]
        try:
            if node is None:
                raise _NotLiteral(name)
            results[name] = {"answer": encode(_literal(node))}
        except _NotLiteral:
            results[name] = {"answer": {"kind": UNWRITTEN, "line": line}}
    return results
