"""The course as nbgrader notebooks: render them, check them, grade submissions outside the kernel.

- `render_nbgrader` (`grade render --nbgrader COURSE_DIR`) writes
  `source/<id>/<id>.ipynb` for every exercise: per task a solution cell holding
  the reference code between nbgrader's solution delimiters and a locked,
  autograded test cell. The test cells call `grader.incell.check` with the
  cases' inputs and the reference results, computed here, in the instructor's
  process; the results of the hidden cases (and quiz answers) sit between
  nbgrader's hidden-test delimiters, so they exist only in the source notebook,
  the gradebook and the autograded copies, never in the students' release.
- `check_notebooks` (`grade check`) renders into a temporary folder, validates
  with nbgrader's own metadata validator and preprocessors, and runs the cells:
  the source notebook must pass every test cell, the released one none.
- `batch_nbgrader` (`grade batch --nbgrader COURSE_DIR --assignment ID`) is the
  trusted path: from each submitted notebook it takes only the solution cells
  (found by grade id), grades them with the isolated runner like any
  submission, and writes the scores into nbgrader's gradebook with nbgrader's
  API, plus an autograded copy for `nbgrader generate_feedback`.

The cell layout (grade ids below) is shared by all three.
"""

from __future__ import annotations

import ast
import copy
import io
import json
import re
import tempfile
import textwrap
import tokenize
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.course import CourseDir
from grader.errors import GraderError, UsageError
from grader.inert import for_html
from grader.results import CourseReport, ExerciseReport, TaskResult

if TYPE_CHECKING:
    import nbformat
    from nbgrader.coursedir import CourseDirectory

    from grader.batch import BatchStats
    from grader.grading import GradeOptions, PlannedTask

SCHEMA_VERSION = 3
"""nbgrader's cell metadata schema written here."""
LAYOUT_FORMAT = 1
"""Version of the notebook layout, recorded in the notebook's metadata."""
METADATA_KEY = "course_grader"
CONFIG_FILE = "nbgrader_config.py"
INTRO_ID = "intro"
SETUP_ID = "setup"
NOTEBOOK_RULE = "notebook"
"""Rule name in the feedback of a task whose cells could not be read."""


def about_id(task: str) -> str:
    return f"about_{task}"


def solution_id(task: str) -> str:
    return f"solution_{task}"


def test_id(task: str) -> str:
    return f"test_{task}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "course"


# ================================================================ nbgrader's folders

def nbgrader_course(nbgrader_dir: Path) -> CourseDirectory:
    """nbgrader's view of COURSE_DIR, with its nbgrader_config.py (folder names, database URL)."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    root = nbgrader_dir.resolve()
    config = Config()
    if (root / CONFIG_FILE).is_file():
        try:
            config = PyFileConfigLoader(CONFIG_FILE, str(root)).load_config()
        except Exception as exc:  # noqa: BLE001 - the instructor's config file may raise anything
            raise UsageError(f"{root / CONFIG_FILE}: cannot be loaded ({type(exc).__name__}: {exc}); "
                             "fix it or move it away") from None
    return CourseDirectory(config=config, root=str(root))


def _assignment_dir(nbc: CourseDirectory, step: str, student: str, assignment: str) -> Path:
    return Path(nbc.format_path(step, student, assignment))


# ================================================================ rendering

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


# ================================================================ checking (grade check)

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


def check_notebooks(course: CourseDir) -> list[str]:
    """Render every exercise into a temporary folder and check each notebook ([] when all are fine)."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="grade-check-nbgrader-") as tmp:
        try:
            paths = render_nbgrader(course, Path(tmp))
        except GraderError as exc:
            return [f"nbgrader notebooks: {exc}"]
        for path in paths:
            if path.suffix == ".ipynb":
                problems += check_notebook(course, path.stem, path)
    return problems


# ================================================================ the trusted path: batch grading

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


def _without_magics(source: str) -> str:
    """IPython magics and shell escapes are not Python; the grader does not run them."""
    return "\n".join(f"{line[:len(line) - len(line.lstrip())]}pass  # not run by the grader: {line.strip()}"
                     if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


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


def _wrapped(task: str, source: str) -> str:
    """A cell's code inside try/except, so that an error at its top level (a stray test call)
    does not stop the other cells, as in a notebook. Lines inside multi-line strings keep
    their indentation."""
    keep: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source + "\n").readline):
            if tok.end[0] > tok.start[0]:  # only strings span lines (f-string parts too)
                keep.update(range(tok.start[0] + 1, tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    body = [line if (n in keep or not line.strip()) else f"    {line}"
            for n, line in enumerate(source.splitlines(), start=1)]
    return "\n".join([f"try:  # ---- cell {solution_id(task)} ----", *body, "    pass",
                      "except Exception as _cell_error:",
                      f"    print('the cell {solution_id(task)} raised', type(_cell_error).__name__, _cell_error)"])


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
        error = _compile_error(source, t.task)
        if error:
            cleaned = _without_magics(source)
            if _compile_error(cleaned, t.task):
                out.problems[t.task] = f"your solution cell of {t.task} is not valid Python ({error})"
                continue
            source = cleaned
        out.cells[t.task] = source
        parts.append(_wrapped(t.task, _without_future_imports(source)))
    out.source = "\n\n".join(parts) + "\n"
    return out


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass
class NotebookResult:
    """One student's notebook, graded (or why not)."""

    student: str
    notebook: str
    report: ExerciseReport | None = None
    extracted: Extracted = field(default_factory=Extracted)
    error: str = ""


def _with_problems(report: ExerciseReport, ex: Extracted, student: str) -> ExerciseReport:
    """Tasks whose cells could not be taken from the notebook score 0, with the reason."""
    tasks = tuple(
        TaskResult(t.name, 0.0, t.max_score, "error", f"[{NOTEBOOK_RULE}] {ex.problems[t.name]}",
                   {d: "error" for d in t.devices})
        if t.name in ex.problems else t for t in report.tasks)
    return replace(report, tasks=tasks, student=student)


def grade_notebooks(course: CourseDir, work: list[tuple[Layout, str, Path]], opts: GradeOptions, jobs: int,
                    stats: BatchStats | None = None) -> list[NotebookResult]:
    """Extract and grade every (notebook, student) pair on `grade batch`'s warm workers: each
    submission in its own isolated child, exactly like `grade batch SUBMISSIONS`."""
    import sys

    from grader.batch import BatchStats, Submission, grade_many

    stats = stats if stats is not None else BatchStats()
    results = [NotebookResult(student, layout.name, extracted=extract(layout, path)) for layout, student, path in work]
    by_variant: dict[str | None, list[tuple[Submission, NotebookResult]]] = {}
    for (layout, student, _), result in zip(work, results, strict=True):
        if result.extracted.error:
            result.error = result.extracted.error
            continue
        sub = Submission(student, layout.exercise, result.extracted.source, f"{layout.name}.ipynb")
        by_variant.setdefault(layout.variant, []).append((sub, result))
    for variant, pairs in by_variant.items():
        waiting = {id(sub): result for sub, result in pairs}
        variant_opts = opts if variant is None else replace(opts, student=variant)
        for sub, report in grade_many(course, [sub for sub, _ in pairs], variant_opts, jobs,
                                      progress=sys.stderr.isatty(), stats=stats):
            result = waiting[id(sub)]
            result.report = _with_problems(report, result.extracted, sub.student)
    return results


def _feedback_output(t: TaskResult) -> dict[str, Any]:
    import nbformat

    if t.status == "passed":
        text = f"✔ {t.name}: passed on {', '.join(t.devices)} (graded outside your kernel)\n"
        return nbformat.v4.new_output("stream", name="stdout", text=text)
    return nbformat.v4.new_output("error", ename="CheckFailed", evalue=t.feedback,
                                  traceback=[f"CheckFailed: {t.feedback}"])


def feedback_notebook(released: nbformat.NotebookNode, result: NotebookResult) -> nbformat.NotebookNode:
    """The released notebook with what was graded: the student's solution cells and the verdicts
    as the test cells' outputs. `nbgrader generate_feedback` turns it into the student's feedback."""
    nb = copy.deepcopy(released)
    tasks = {t.name: t for t in (result.report.tasks if result.report else ())}
    ex = result.extracted
    for cell in nb.cells:
        gid = _nb_meta(cell).get("grade_id", "")
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if gid.startswith("solution_"):
            name = gid.removeprefix("solution_")
            cell.source = ex.cells.get(name, f"# not graded: {ex.problems.get(name) or result.error}")
        elif gid.startswith("test_") and gid.removeprefix("test_") in tasks:
            cell.outputs = [_feedback_output(tasks[gid.removeprefix("test_")])]
        elif gid.startswith("test_"):
            cell.outputs = [_feedback_output(TaskResult(gid, 0, 0, "error", result.error or "not graded"))]
    return nb


def _write_gradebook(nbc: CourseDirectory, assignment: str, results: list[NotebookResult],
                     timestamps: dict[str, Any], problems: list[str]) -> None:
    """Scores and feedback into nbgrader's gradebook, the way `nbgrader autograde` records them:
    one commit per student, so that one student's data never keeps another's out."""
    import warnings

    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    with Gradebook(nbc.db_url, nbc.course_id) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own session warnings, as in `nbgrader autograde`

        def record(student: str) -> None:
            try:
                gb.update_or_create_student(student)
                kwargs = {"timestamp": timestamps[student]} if timestamps.get(student) else {}
                gb.update_or_create_submission(assignment, student, **kwargs)
                for r in results:
                    if r.student == student:
                        _record_scores(gb, assignment, r, MissingEntry)
                gb.db.commit()
            except Exception:
                gb.db.rollback()
                raise

        from grader.batch import for_each_student

        for_each_student(sorted({r.student for r in results}), str, record, problems, "writing the gradebook")


def _record_scores(gb: Any, assignment: str, r: NotebookResult, missing_entry: type[Exception]) -> None:
    scores = {t.name: t for t in (r.report.tasks if r.report else ())}
    try:
        notebook = gb.find_notebook(r.notebook, assignment)
    except missing_entry:
        return
    for cell in notebook.grade_cells:
        if not cell.name.startswith("test_"):
            continue  # a cell the instructor added by hand: theirs to grade
        task = scores.get(cell.name.removeprefix("test_"))
        grade = gb.find_grade(cell.name, r.notebook, assignment, r.student)
        fraction = task.score / task.max_score if task and task.max_score else 0.0
        grade.auto_score = float(cell.max_score) * fraction
        grade.needs_manual_grade = grade.manual_score is not None
        try:
            comment = gb.find_comment(solution_id(cell.name.removeprefix("test_")), r.notebook, assignment,
                                      r.student)
        except missing_entry:
            continue
        comment.auto_comment = for_html((task.feedback if task else r.error) or "") or None


def _copy_other_files(submitted: Path, graded: Path) -> None:
    """What `nbgrader autograde` copies along: timestamp.txt and submission_secret.txt, which
    `generate_feedback` and `release_feedback` need (plain files only, never links)."""
    import shutil

    for path in submitted.iterdir():
        if path.suffix != ".ipynb" and path.is_file() and not path.is_symlink():
            shutil.copyfile(path, graded / path.name)


def _timestamp(folder: Path) -> Any:
    """The submission time `nbgrader collect` wrote, or None when it is missing or unreadable."""
    from nbgrader.utils import parse_utc

    try:
        return parse_utc((folder / "timestamp.txt").read_text().strip()) or None
    except (OSError, ValueError, OverflowError, TypeError):
        return None


def _summary(results: list[NotebookResult], assignment: str, problems: list[str]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from grader.inert import visible

    def show(text: str) -> str:  # students' names, files and problems: inert, then rich-escaped
        return escape(visible(text))

    table = Table()
    for col in ("student", "notebook", "score", "problems"):
        table.add_column(col)
    for r in results:
        if r.report is None:
            table.add_row(show(r.student), show(r.notebook), "[red]not graded[/]", show(r.error))
            continue
        notes = [f"{t}: {p}" for t, p in r.extracted.problems.items()]
        score = f"{r.report.score:g}/{r.report.max_score:g}"
        table.add_row(show(r.student), show(r.notebook), f"[green]{score}[/]" if r.report.full_marks else score,
                      show("\n".join(notes)) if notes else "")
    console = Console(highlight=False)
    console.print(f"nbgrader assignment [bold]{escape(assignment)}[/], graded outside the students' kernels:")
    console.print(table)
    for problem in problems:
        console.print(f"[red]could not be graded:[/] {show(problem)}")


def batch_nbgrader(course: CourseDir, nbgrader_dir: Path, assignment: str, opts: GradeOptions, jobs: int = 1,
                   out: Path | None = None) -> int:
    """Grade COURSE_DIR/submitted/<student>/<assignment>/*.ipynb outside the students' kernels and
    write the scores into the course's nbgrader gradebook.

    Returns 0 when every notebook was graded (whatever the scores), 1 when some could not be,
    3 when some gradings ended in `grader_error`.
    """
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry

    from grader.batch import BatchStats
    from grader.reports import write_atomic

    if not nbgrader_dir.is_dir():
        raise UsageError(f"{nbgrader_dir}: no such nbgrader course folder")
    nbc = nbgrader_course(nbgrader_dir)
    source_dir = _assignment_dir(nbc, nbc.source_directory, ".", assignment)
    layouts = [Layout.read(p) for p in sorted(source_dir.glob("*.ipynb"))]
    if not layouts:
        raise UsageError(f"{source_dir}: no notebooks; run `grade render --nbgrader {nbgrader_dir}` and "
                         f"`nbgrader generate_assignment {assignment}` first")
    for layout in layouts:
        course.resolve_id(layout.exercise)
    with Gradebook(nbc.db_url, nbc.course_id) as gb:
        try:
            known = {nb.name for nb in gb.find_assignment(assignment).notebooks}
        except MissingEntry:
            raise UsageError(f"the gradebook of {nbgrader_dir} has no assignment '{assignment}'; "
                             f"run `nbgrader generate_assignment {assignment}` in {nbgrader_dir} first") from None
    missing = [layout.name for layout in layouts if layout.name not in known]
    if missing:
        raise UsageError(f"the gradebook does not know the notebook(s) {', '.join(missing)} of '{assignment}'; "
                         f"run `nbgrader generate_assignment {assignment} --force` again")
    submitted_root = Path(nbc.root) / nbc.submitted_directory
    students = sorted(p.name for p in submitted_root.glob("*") if (p / assignment).is_dir()) \
        if submitted_root.is_dir() else []
    if not students:
        raise UsageError(f"nobody has submitted '{assignment}': {submitted_root}/<student>/{assignment}/ is empty; "
                         f"run `nbgrader collect {assignment}` first")
    work = [(layout, s, _assignment_dir(nbc, nbc.submitted_directory, s, assignment) / f"{layout.name}.ipynb")
            for s in students for layout in layouts]
    stats = BatchStats()
    results = grade_notebooks(course, work, opts, jobs, stats)
    timestamps = {s: _timestamp(_assignment_dir(nbc, nbc.submitted_directory, s, assignment)) for s in students}
    _write_gradebook(nbc, assignment, results, timestamps, stats.problems)
    release_dir = _assignment_dir(nbc, nbc.release_directory, ".", assignment)

    def feedback(r: NotebookResult) -> None:
        released_path = release_dir / f"{r.notebook}.ipynb"
        if not released_path.is_file():
            return
        released = nbformat.read(str(released_path), as_version=4)
        graded_dir = _assignment_dir(nbc, nbc.autograded_directory, r.student, assignment)
        write_atomic(graded_dir / released_path.name, nbformat.writes(feedback_notebook(released, r)))
        _copy_other_files(_assignment_dir(nbc, nbc.submitted_directory, r.student, assignment), graded_dir)

    from grader.batch import for_each_student

    for_each_student(results, lambda r: r.student, feedback, stats.problems, "writing the feedback notebook")

    def report_file(student: str) -> None:
        reports = tuple(r.report for r in results if r.student == student and r.report is not None)
        if reports and out is not None:
            report: ExerciseReport | CourseReport = reports[0] if len(reports) == 1 else \
                CourseReport(reports, student=student)
            write_atomic(out / f"{student}.json", json.dumps(report.to_json(), indent=2) + "\n")

    for_each_student(students, str, report_file, stats.problems, "writing the report")
    _summary(results, assignment, stats.problems + stats.config_errors)
    if any(r.report is not None and r.report.grader_error for r in results):
        return 3  # the grader could not finish some gradings (listed above): run it again
    return 1 if any(r.report is None for r in results) or stats.problems or stats.config_errors else 0
