"""The course as nbgrader source notebooks (`grade render --nbgrader COURSE_DIR`).

`render_nbgrader` writes `source/<id>/<id>.ipynb` for every exercise: per task a solution
cell holding the reference code between nbgrader's solution delimiters and a locked,
autograded test cell. The test cells call `grader.incell.check` with the cases' inputs and
the reference results, computed here, in the instructor's process; the results of the
hidden cases (and quiz answers) sit between nbgrader's hidden-test delimiters, so they
exist only in the source notebook, the gradebook and the autograded copies, never in the
students' release.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.course import CourseDir
from grader.errors import UsageError, require_extra
from grader.notebook_layout import (
    CONFIG_FILE,
    INTRO_ID,
    LAYOUT_FORMAT,
    METADATA_KEY,
    SCHEMA_VERSION,
    SETUP_ID,
    _slug,
    about_id,
    solution_id,
    test_id,
)

if TYPE_CHECKING:
    import nbformat

    from grader.grading import PlannedTask


@dataclass(frozen=True)
class ReferenceCode:
    """The reference solution cut into what each task's solution cell holds."""

    bodies: dict[str, str]
    """Function name -> its body (helpers and imports it needs first), indented by 4 spaces."""


def reference_code(course: CourseDir, ex_id: str, function_names: list[str]) -> ReferenceCode:
    """Cut `solutions/<id>.py` into function bodies. Module-level imports and helpers a
    function uses are inlined at the top of its body, so each solution cell stands alone."""
    from grader.grading import SolutionError

    path = course.solution_file(ex_id)
    try:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(path))
    except (OSError, SyntaxError) as exc:
        raise SolutionError(f"{path}: cannot be read as Python ({exc})") from None
    lines = text.splitlines()
    stub_imports = {line.strip() for line in course.exercise(ex_id).imports}
    functions: dict[str, ast.FunctionDef] = {}
    helpers: list[tuple[set[str], str]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in function_names:
            functions[node.name] = node
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            continue  # the module docstring
        segment = "\n".join(lines[_first_line(node, lines) - 1:node.end_lineno])
        if isinstance(node, (ast.Import, ast.ImportFrom)) and segment.strip() in stub_imports:
            continue
        helpers.append((_defined_names(node), textwrap.dedent(segment)))
    bodies = {}
    for name in function_names:
        fn = functions.get(name)
        if fn is None:
            raise SolutionError(f"{path}: no function '{name}'")
        stmts = fn.body[1:] if _is_docstring(fn.body[0]) and len(fn.body) > 1 else fn.body
        body = textwrap.dedent("\n".join(lines[_first_line(stmts[0], lines) - 1:fn.end_lineno]))
        used = _used_names(fn)
        needed = [src for names, src in helpers if names & used]
        bodies[name] = textwrap.indent("\n".join([*needed, body]), "    ")
    return ReferenceCode(bodies)


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _first_line(node: ast.stmt, lines: list[str]) -> int:
    """The node's first line, including comment lines right above it (and decorators)."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    while first > 1 and lines[first - 2].strip().startswith("#"):
        first -= 1
    return first


def _defined_names(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _used_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _meta(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
          points: float | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"grade": grade, "grade_id": grade_id, "locked": locked,
                            "schema_version": SCHEMA_VERSION, "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return meta


def _code(source: str, grade_id: str, **meta: Any) -> nbformat.NotebookNode:
    import nbformat

    cell = nbformat.v4.new_code_cell(source.rstrip("\n"), metadata={"nbgrader": _meta(grade_id, **meta)})
    cell.id = grade_id.replace("_", "-")[:64]
    return cell


def _markdown(source: str, grade_id: str) -> nbformat.NotebookNode:
    import nbformat

    cell = nbformat.v4.new_markdown_cell(source.rstrip("\n"), metadata={"nbgrader": _meta(grade_id, locked=True)})
    cell.id = grade_id.replace("_", "-")[:64]
    return cell


def _points(value: float) -> str:
    text = f"{value:g}"
    return f"{text} point" + ("" if value == 1 else "s")


def _payload(ex_id: str, p: PlannedTask, job_task: dict[str, Any], refs: list[Any], indices: list[int],
             student: str | None) -> dict[str, Any]:
    """What a test cell's `check` call needs: inputs, reference results, the task's rules."""
    from grader.incell import PAYLOAD_FORMAT, refs_payload, spec_payload

    cases = job_task["cases"]
    return {
        "format": PAYLOAD_FORMAT, "exercise": ex_id, "task": p.task.name, "kind": p.task.kind, "student": student,
        "spec": spec_payload(p.spec),
        "job": dict(job_task, cases=[cases[i] for i in indices if i < len(cases)]),
        "refs": refs_payload([refs[i] for i in indices]),
        "numbers": [i + 1 for i in indices],
    }


def _check_call(name: str, payload: dict[str, Any], hidden: bool) -> str:
    from grader.incell import encode_payload

    return f'check("{name}", "{encode_payload(payload)}"' + (", hidden=True)" if hidden else ")")


def _test_source(ex_id: str, p: PlannedTask, visible: dict[str, Any] | None, hidden: dict[str, Any]) -> str:
    task = p.task
    if task.kind == "answer":
        head = [f"# Checks that {task.name} has the form of an answer"
                + (f" ({task.answer_help})" if task.answer_help else "") + ";",
                "# whether it is right is checked when your work is graded."]
    else:
        labels = [ref["label"] for ref in (visible or {}).get("refs", [])]
        head = [f"# Checks {task.name} as `grade {ex_id}` does: shape, dtype, device, values and the task's rules,",
                "# on every device this kernel has (cpu, cuda or mps when present, and meta)."]
        head += [f"# Case {n}: {label}" for n, label in zip((visible or {}).get("numbers", []), labels, strict=True)]
    lines = [*head, "from grader.incell import check", ""]
    if visible is not None:
        lines.append(_check_call(task.name, visible, hidden=False))
    lines += ["### BEGIN HIDDEN TESTS", _check_call(task.name, hidden, hidden=True), "### END HIDDEN TESTS"]
    return "\n".join(lines)


def render_notebook(course: CourseDir, ex_id: str, student: str | None = None) -> nbformat.NotebookNode:
    """The nbgrader source notebook of one exercise (with solutions and hidden tests)."""
    import nbformat

    from grader.grading import ALL_DEVICES, GradeOptions, build_job, load_solution, plan, references
    from grader.render import _docstring, _examples, question_text

    exercise = course.exercise(ex_id)
    planned = plan(course, ex_id, exercise, GradeOptions(devices=ALL_DEVICES, student=student))
    job = build_job(planned, "", f"{ex_id}.ipynb")
    solution = load_solution(course, ex_id)
    functions = [p.task.reference or p.task.name for p in planned if p.task.kind == "function"]
    code = reference_code(course, ex_id, functions)
    variant_tasks = [t.name for t in exercise.tasks if any(c.variant for c in t.cases)]

    intro = [f"# {exercise.title}", f"*{ex_id}, {_points(exercise.max_score)}*", "", exercise.text.strip(), "",
             "---", "**How this notebook works.** Write your code where a cell says `# YOUR CODE HERE` "
             "(remove the `raise NotImplementedError()` line). After each of your cells comes a read-only test "
             f"cell: run it to check your work. It makes the same checks as `grade {ex_id}` (shape, dtype, device, "
             "values and the task's rules) on every device your kernel has; more cases are hidden and checked "
             "when your work is graded. Keep the cells in their order, and do not delete, copy or "
             "convert them: only the cells you write in are graded."]
    if variant_tasks and student is None:
        intro += ["", f"*Variants:* with the `grade` command line, {', '.join(variant_tasks)} are drawn for each "
                      f"student (`grade render --student ID`, then `grade {ex_id} --student ID`). This notebook, "
                      "released to the whole class through nbgrader, has the common questions."]
    elif student is not None:
        intro += ["", f"*This is the variant of student* `{student}`."]
    cells = [_markdown("\n".join(intro), INTRO_ID)]
    if exercise.imports:
        cells.append(_code("\n".join(exercise.imports), SETUP_ID, locked=True))
    for i, p in enumerate(planned):
        task = p.task
        refs = references(solution, p, ex_id)
        job_task = job["tasks"][i]
        visible: dict[str, Any] | None
        if task.kind == "answer":
            question = question_text(task, p.cases[0])
            cells.append(_markdown(f"### `{task.name}` ({_points(task.points)})\n\n{question}", about_id(task.name)))
            help_line = f"# Set {task.name} to {task.answer_help}.\n" if task.answer_help else ""
            cells.append(_code(f"{help_line}### BEGIN SOLUTION\n{task.name} = {refs[0].expected!r}\n"
                               "### END SOLUTION", solution_id(task.name), solution=True))
            visible = _payload(ex_id, p, job_task, refs, [], student)
            hidden = _payload(ex_id, p, job_task, refs, [0], student)
        else:
            cells.append(_markdown(f"### `{task.name}` ({_points(task.points)})\n\nWrite the function in the next "
                                   "cell, then run the test cell after it.", about_id(task.name)))
            doc = _docstring(task.doc.strip() + _examples(task), "    ")
            body = code.bodies[task.reference or task.name]
            cells.append(_code(f"def {task.name}{task.signature}:\n{doc}    ### BEGIN SOLUTION\n{body}\n"
                               "    ### END SOLUTION", solution_id(task.name), solution=True))
            shown = [n for n, case in enumerate(task.cases) if not case.hidden]
            visible = _payload(ex_id, p, job_task, refs, shown, student) if shown else None
            hidden = _payload(ex_id, p, job_task, refs, list(range(len(task.cases))), student)
        cells.append(_code(_test_source(ex_id, p, visible, hidden), test_id(task.name), grade=True, locked=True,
                           points=task.points))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
        METADATA_KEY: {"format": LAYOUT_FORMAT, "exercise": ex_id, "student": student},
    }
    return nb


def _config_text(course: CourseDir) -> str:
    return f'''# nbgrader configuration for "{course.course.title}", written by `grade render --nbgrader`.
# It is yours to edit: grade render never overwrites it.
c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "{_slug(course.course.title)}"

# Where `nbgrader release_assignment` puts the notebooks and students submit them.
# On a JupyterHub this is a shared folder, by default /srv/nbgrader/exchange.
# c.Exchange.root = "/srv/nbgrader/exchange"

# Seconds a cell may run during `nbgrader autograde` (the first one also imports torch).
c.Execute.timeout = 120
'''


def _write(path: Path, text: str) -> None:
    """Atomically, readable like any file the instructor writes (nbgrader copies the mode on release)."""
    import os

    from grader.reports import write_atomic

    write_atomic(path, text)
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o666 & ~umask)


def source_notebook(nbgrader_dir: Path, ex_id: str) -> Path:
    """COURSE_DIR/source/<id>/<id>.ipynb: one assignment per exercise, one notebook in it."""
    return nbgrader_dir / "source" / ex_id / f"{ex_id}.ipynb"


def render_nbgrader(course: CourseDir, nbgrader_dir: Path, student: str | None = None) -> list[Path]:
    """Write COURSE_DIR/source/<id>/<id>.ipynb for every exercise, and nbgrader_config.py if none exists."""
    require_extra("grade render --nbgrader", ("nbformat", "nbgrader"), "nbgrader")
    import nbformat

    if nbgrader_dir.exists() and not nbgrader_dir.is_dir():
        raise UsageError(f"{nbgrader_dir} is a file; --nbgrader takes the nbgrader course folder")
    written = []
    for ex_id in course.exercise_ids:
        path = source_notebook(nbgrader_dir, ex_id)
        _write(path, nbformat.writes(render_notebook(course, ex_id, student)))
        written.append(path)
    config = nbgrader_dir / CONFIG_FILE
    if not config.exists():
        _write(config, _config_text(course))
        written.append(config)
    return written
