"""The trusted path (`grade batch --nbgrader COURSE_DIR --assignment ID`): from each
submitted notebook only the solution cells (`notebook_extract`) are graded with the isolated
runner like any submission, and the scores go into nbgrader's gradebook with nbgrader's API,
plus an autograded copy for `nbgrader generate_feedback`.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.course import CourseDir
from grader.errors import UsageError, require_extra
from grader.inert import for_html
from grader.notebook_extract import Extracted, Layout, _cell_failures, _nb_meta, extract
from grader.notebook_layout import CONFIG_FILE, NOTEBOOK_RULE, solution_id
from grader.results import CourseReport, ExerciseReport, TaskResult, duration_text

if TYPE_CHECKING:
    import nbformat
    from nbgrader.coursedir import CourseDirectory

    from grader.batch import BatchStats
    from grader.grading import GradeOptions


# ---------------------------------------------------------------- nbgrader's folders

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


@dataclass
class NotebookResult:
    """One student's notebook, graded (or why not)."""

    student: str
    notebook: str
    report: ExerciseReport | None = None
    extracted: Extracted = field(default_factory=Extracted)
    error: str = ""


def _with_problems(report: ExerciseReport, ex: Extracted, student: str) -> ExerciseReport:
    """Tasks whose cells could not be taken from the notebook score 0, with the reason; a task
    left undefined because its cell raised says so, rather than "not defined in your file"."""
    failed = _cell_failures(report.output)

    def explained(t: TaskResult) -> TaskResult:
        if t.name in ex.problems:
            return TaskResult(t.name, 0.0, t.max_score, "error", f"[{NOTEBOOK_RULE}] {ex.problems[t.name]}",
                              {d: "error" for d in t.devices})
        error = failed.get(solution_id(t.name))
        if error and t.feedback == f"{t.name} is not defined in your file":
            return replace(t, feedback=f"[{NOTEBOOK_RULE}] your solution cell of {t.name} raised {error}, so "
                                       f"{t.name} was never defined; run the cell in Jupyter to see the error")
        return t

    return replace(report, tasks=tuple(explained(t) for t in report.tasks), student=student)


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


def _handed_in(timestamp: datetime | None, notebook: Path) -> datetime | None:
    """When a notebook counts as handed in: nbgrader's timestamp.txt (`_timestamp`, in UTC), else
    the notebook's file time, as `grade batch SUBMISSIONS` takes it."""
    from grader.batch import file_time

    if timestamp is not None:
        return timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=timezone.utc)
    return file_time(notebook)


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
        if r.report.late:
            notes.append(f"late by {duration_text(r.report.late_by_s or 0)} (no points taken off)")
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
    require_extra("grade batch --nbgrader", ("nbformat", "nbgrader", "IPython"), "nbgrader")
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry

    from grader.batch import BatchStats, with_deadline
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
    for (_, student, path), r in zip(work, results, strict=True):
        if r.report is not None:
            r.report = with_deadline(course, r.report, _handed_in(timestamps[student], path))
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
