"""What the trusted batch path grades of a submitted notebook: the source notebook's
`Layout`, and `extract`, which takes only the solution cells (found by grade id), each as
Jupyter runs it (`notebook_code`), wrapped so that one cell's error does not stop the others.
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import UsageError
from grader.notebook_code import cell_python
from grader.notebook_layout import LAYOUT_FORMAT, METADATA_KEY, SETUP_ID, solution_id, test_id


@dataclass(frozen=True)
class TaskCells:
    task: str
    points: float


@dataclass(frozen=True)
class Layout:
    """What the instructor's source notebook says a submission of it must look like."""

    name: str
    """The notebook's name (file stem), as nbgrader knows it."""
    exercise: str
    variant: str | None
    setup: str
    """The setup cell's code (imports), taken from the source, never from the submission."""
    tasks: tuple[TaskCells, ...]

    @classmethod
    def read(cls, path: Path) -> Layout:
        import nbformat

        try:
            nb = nbformat.read(str(path), as_version=4)
        except Exception as exc:  # noqa: BLE001 - any unreadable source is the same problem
            raise UsageError(f"{path}: cannot be read as a notebook ({exc})") from None
        info = nb.metadata.get(METADATA_KEY)
        if not isinstance(info, dict) or info.get("format") != LAYOUT_FORMAT:
            raise UsageError(f"{path}: was not written by `grade render --nbgrader`; render it again, then run "
                             "`nbgrader generate_assignment`")
        setup = ""
        tasks = []
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            gid = meta.get("grade_id", "")
            if gid == SETUP_ID:
                setup = cell.source
            elif meta.get("grade") and gid.startswith("test_"):
                tasks.append(TaskCells(gid.removeprefix("test_"), float(meta.get("points", 0))))
        return cls(path.stem, str(info["exercise"]), info.get("student"), setup, tuple(tasks))


@dataclass
class Extracted:
    """The graded part of one submitted notebook: its solution cells, and why some are missing."""

    source: str = ""
    problems: dict[str, str] = field(default_factory=dict)
    """Task -> why it scores 0 without being run."""
    cells: dict[str, str] = field(default_factory=dict)
    """Task -> the solution cell's source, as graded."""
    error: str = ""
    """Why the notebook could not be read at all."""


def _nb_meta(cell: Any) -> dict[str, Any]:
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def _cell_source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _is_empty(source: str) -> bool:
    return all(not line.strip() or line.strip().startswith("#") for line in source.splitlines())


_FUTURE = re.compile(r"from\s+__future__\s+import\b")


def _without_future_imports(source: str) -> str:
    """`from __future__ import ...` is allowed only at the top of a file, and each cell is
    wrapped in try/except: drop it (from Python 3.10 on it changes nothing a task checks)."""
    return "\n".join(f"pass  # {line}" if _FUTURE.match(line) else line for line in source.splitlines())


def _compile_error(source: str, task: str) -> str:
    try:
        compile(source, f"solution_{task}", "exec")
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    except (ValueError, MemoryError, RecursionError) as exc:
        return str(exc)
    return ""


def _wrapped(task: str, source: str, first_line: int) -> str:
    """A cell's code inside try/except, so that an error at its top level (a stray test call)
    does not stop the other cells, as in a notebook; the error is printed with its line in the
    cell (`first_line`: where the cell's code starts in the graded file), for `_cell_failures`.
    Lines inside multi-line strings keep their indentation."""
    keep: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source + "\n").readline):
            if tok.end[0] > tok.start[0]:  # only strings span lines (f-string parts too)
                keep.update(range(tok.start[0] + 1, tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    body = [line if (n in keep or not line.strip()) else f"    {line}"
            for n, line in enumerate(source.splitlines(), start=1)]
    report = (f"print(f'the cell {solution_id(task)} raised {{type(_cell_error).__name__}}: {{_cell_error}} '"
              "f'(line {_cell_line} of the cell)'.replace(chr(10), ' '))")
    return "\n".join([f"try:  # ---- cell {solution_id(task)} ----", *body, "    pass",
                      "except Exception as _cell_error:",
                      "    try:",
                      f"        _cell_line = _cell_error.__traceback__.tb_lineno - {first_line - 1}",
                      f"        {report}",
                      "    except Exception:",
                      f"        print('the cell {solution_id(task)} raised an exception')"])


def extract(layout: Layout, path: Path) -> Extracted:
    """Read a submitted notebook and take its solution cells by grade id, nothing else.

    A cell that is missing, duplicated, out of order, emptied, not Python, or whose nbgrader
    metadata was changed gives its task a problem (and 0); the other tasks are still graded.
    """
    out = Extracted()
    try:
        raw = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        cells = raw["cells"]
        if not isinstance(cells, list):
            raise TypeError("'cells' is not a list")
    except FileNotFoundError:
        out.error = f"no {path.name} was submitted"
        return out
    except (OSError, ValueError, KeyError, TypeError) as exc:
        out.error = f"{path.name} is not a readable notebook ({type(exc).__name__}: {exc}); nothing was graded"
        return out
    where: dict[str, list[int]] = {}
    for index, cell in enumerate(cells):
        gid = _nb_meta(cell).get("grade_id")
        if isinstance(gid, str):
            where.setdefault(gid, []).append(index)
    parts = [layout.setup.rstrip()] if layout.setup.strip() else []
    previous_test = -1
    for t in layout.tasks:
        sol, test = solution_id(t.task), test_id(t.task)
        problem = ""
        for gid, kind in ((sol, "solution"), (test, "test")):
            found = where.get(gid, [])
            if not found:
                problem = problem or (f"the {kind} cell of {t.task} ({gid}) is missing: it was deleted or its nbgrader "
                                      "metadata was changed; copy it back from the released notebook")
            elif len(found) > 1:
                problem = problem or f"the {kind} cell of {t.task} ({gid}) appears {len(found)} times; keep one"
        if not problem:
            s_i, t_i = where[sol][0], where[test][0]
            s_cell, t_cell = cells[s_i], cells[t_i]
            s_meta, t_meta = _nb_meta(s_cell), _nb_meta(t_cell)
            if not (s_i < t_i and s_i > previous_test):
                problem = (f"the cells of {t.task} were moved: its solution cell must come after the test cell "
                           "of the task before it and before its own test cell")
            elif s_cell.get("cell_type") != "code" or s_meta.get("solution") is not True \
                    or s_meta.get("grade") not in (False, None) or s_meta.get("locked") not in (False, None):
                problem = f"the nbgrader metadata of {sol} was changed (or the cell converted); restore the cell"
            elif t_cell.get("cell_type") != "code" or t_meta.get("grade") is not True \
                    or t_meta.get("locked") is not True or _float(t_meta.get("points")) != t.points:
                problem = f"the nbgrader metadata of {test} was changed (or the cell converted); restore the cell"
            previous_test = max(previous_test, t_i)
        if problem:
            out.problems[t.task] = problem
            continue
        source = _cell_source(cells[where[sol][0]])
        if _is_empty(source):
            out.problems[t.task] = f"the solution cell of {t.task} is empty: write your answer in it"
            continue
        code = cell_python(source)  # as Jupyter runs it: magics and shell escapes neutralised
        error = _compile_error(code, t.task)
        if error:
            out.problems[t.task] = f"your solution cell of {t.task} is not valid Python ({error})"
            continue
        out.cells[t.task] = source
        first_line = "\n\n".join(parts).count("\n") + 4 if parts else 2  # of the cell's code, inside its try
        parts.append(_wrapped(t.task, _without_future_imports(code), first_line))
    out.source = "\n\n".join(parts) + "\n"
    return out


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


_CELL_FAILED = re.compile(r"^the cell (\S+) raised (.+)$", re.MULTILINE)


def _cell_failures(output: str) -> dict[str, str]:
    """Grade id -> the error its cell raised, from what `_wrapped` printed. (The student could
    print such a line too; it changes only the wording of a task that already scores 0.)"""
    return {m.group(1): m.group(2) for m in _CELL_FAILED.finditer(output)}
