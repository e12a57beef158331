"""`grade check` for the nbgrader notebooks: `check_notebooks` renders into a temporary
folder, validates with nbgrader's own metadata validator and preprocessors, and runs the
cells: the source notebook must pass every test cell, the released one none.
"""

from __future__ import annotations

import copy
import io
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.course import CourseDir
from grader.errors import GraderError
from grader.notebook_layout import test_id
from grader.notebook_render import render_nbgrader

if TYPE_CHECKING:
    import nbformat


def student_version(nb: nbformat.NotebookNode, *, keep_hidden_tests: bool = False) -> nbformat.NotebookNode:
    """What `nbgrader generate_assignment` releases (solutions and hidden tests cleared by nbgrader
    itself), or with `keep_hidden_tests` what `nbgrader autograde` runs for an unanswered copy."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions, LockCells

    out = copy.deepcopy(nb)
    for pp in (LockCells(), ClearSolutions(), *(() if keep_hidden_tests else (ClearHiddenTests(),))):
        out, _ = pp.preprocess(out, {})
    return out


def run_cells(nb: nbformat.NotebookNode) -> dict[str, str]:
    """Run a notebook's code cells in-process, as a kernel would, and return each test cell's
    verdict by grade id ('' when it passed). Only for notebooks we rendered: the code is ours."""
    import contextlib

    namespace: dict[str, Any] = {"__name__": "__main__"}
    verdicts: dict[str, str] = {}
    sink = io.StringIO()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        try:
            with contextlib.redirect_stdout(sink):
                exec(compile(cell.source, f"<cell {meta.get('grade_id', cell.get('id'))}>", "exec"), namespace)
            error = ""
        except Exception as exc:  # noqa: BLE001 - a failing cell is what we are looking for
            error = str(exc) or type(exc).__name__
        if meta.get("grade"):
            verdicts[meta["grade_id"]] = error
    return verdicts


def check_notebook(course: CourseDir, ex_id: str, path: Path) -> list[str]:
    """Problems of one rendered notebook: nbgrader's validator, nbgrader's own clearing, and the
    test cells' verdicts on the reference (all pass) and on the released stub (all fail)."""
    import nbformat
    from nbgrader.nbgraderformat import MetadataValidator, ValidationError

    problems = []
    nb = nbformat.read(str(path), as_version=4)
    try:
        nbformat.validate(nb)
        MetadataValidator().validate_nb(nb)
        released = student_version(nb)  # nbgrader's preprocessors raise on unbalanced delimiters
    except (ValidationError, nbformat.ValidationError, RuntimeError) as exc:
        return [f"{path.name}: nbgrader rejects the notebook: {str(exc).splitlines()[0]}"]
    exercise = course.exercise(ex_id)
    text = "\n".join(c.source for c in released.cells)
    for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "hidden=True"):
        if marker in text:
            problems.append(f"{path.name}: the released notebook still contains '{marker}'")
    for grade_id, error in run_cells(nb).items():
        if error:
            problems.append(f"{path.name}: {grade_id} fails on the reference solution: {error.splitlines()[0]}")
    unanswered = student_version(nb, keep_hidden_tests=True)
    passing = [g for g, error in run_cells(unanswered).items() if not error]
    if passing:
        problems.append(f"{path.name}: the unanswered notebook passes {', '.join(passing)}; it must score 0")
    expected = {test_id(t.name) for t in exercise.tasks}
    graded = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    if graded != expected:
        problems.append(f"{path.name}: graded cells {sorted(graded)} do not match the tasks {sorted(expected)}")
    return problems


def check_notebooks(course: CourseDir, only: list[str] | None = None) -> list[str]:
    """Render every exercise into a temporary folder and check each notebook, or those of the
    exercises in `only` ([] when all are fine)."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="grade-check-nbgrader-") as tmp:
        try:
            paths = render_nbgrader(course, Path(tmp))
        except GraderError as exc:
            return [f"nbgrader notebooks: {exc}"]
        for path in paths:
            if path.suffix == ".ipynb" and (only is None or path.stem in only):
                problems += check_notebook(course, path.stem, path)
    return problems
