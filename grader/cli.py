"""The `grade` command: the only place that prints errors and picks exit codes.

Exit codes: 0 full marks (or success), 1 graded but not full marks, 2 usage or
configuration error (one message, no traceback).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from grader.course import CourseDir
from grader.errors import ConfigError, GraderError, UsageError
from grader.inert import visible

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("table", "json", "junit", "gradescope")


def common_options(fn: F) -> F:
    """Options every grading command shares (see CONTRACT.md)."""
    decorators = [
        click.option("--workspace", type=click.Path(path_type=Path, file_okay=False),
                     help="Folder of the student's working copies (default: <course>/workspace)."),
        click.option("--course", "course_path", type=click.Path(path_type=Path),
                     help="Course folder or its course.yaml (default: found upward from here)."),
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                     help="Report format."),
        click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
                     help="Write the report to FILE (atomically) instead of standard output."),
        click.option("--devices", help="Comma-separated devices to check, e.g. cpu,meta (default: all available)."),
        click.option("--student", help="Student id: grade (and render) that student's variant."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True),
                     help="Seconds per task, overriding the YAML."),
    ]
    for deco in reversed(decorators):
        fn = deco(fn)
    return fn


def _open(course_path: Path | None, workspace: Path | None) -> CourseDir:
    return CourseDir.open(course_path, workspace)


def _options(devices: str | None, timeout: float | None, student: str | None) -> Any:
    from grader.grading import GradeOptions, parse_devices

    return GradeOptions(devices=parse_devices(devices), timeout=timeout, student=student)


def _info(message: str) -> None:
    """Notices go to stderr so that stdout carries only the report (names in them are the
    students': shown inert)."""
    click.echo(visible(message), err=True)


def emit(report: Any, fmt: str, output: Path | None, course: CourseDir | None = None) -> None:
    """Render a report in the chosen format to stdout or, atomically, to a file."""
    from grader import reports

    if fmt == "table":
        if output is None:
            reports.print_table(report)
            return
        from io import StringIO

        from rich.console import Console

        buf = StringIO()
        reports.print_table(report, console=Console(file=buf, width=120, no_color=True))
        text = buf.getvalue()
    else:
        text = reports.render(report, fmt, course)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        reports.write_atomic(output, text)
        _info(f"report written to {output}")


def _exit_for(report: Any) -> None:
    sys.exit(0 if report.full_marks else 1)


def _source_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _save_state(course: CourseDir, report: Any, path: Path) -> None:
    from grader.reports import write_atomic

    try:
        state = {"hash": _source_hash(path), "report": report.to_json()}
        write_atomic(course.state_dir / f"{report.exercise}.json", json.dumps(state))
    except OSError:
        pass  # a read-only workspace must not stop grading


def _load_state(course: CourseDir, ex_id: str) -> dict[str, Any] | None:
    try:
        data = json.loads((course.state_dir / f"{ex_id}.json").read_text())
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def grade_exercise(course: CourseDir, ex_id: str, opts: Any, *, announce: bool = True) -> Any:
    """Render the stub if missing, grade the student's file, remember the result."""
    from grader.grading import grade_file
    from grader.render import ensure_stub

    path, created = ensure_stub(course, ex_id, opts.student)
    if created and announce:
        _info(f"Created {path} from exercises/{ex_id}.yaml: open it and write your answers.")
    report = grade_file(course, ex_id, path, opts)
    _save_state(course, report, path)
    return report


class GradeGroup(click.Group):
    """`grade exercise3` means `grade exercise exercise3`; typos of commands get a suggestion."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in self.commands:
            close = difflib.get_close_matches(name, [c for c in self.commands if c != "exercise"], n=1, cutoff=0.75)
            if close and not any(ch.isdigit() for ch in name):
                raise click.UsageError(f"no command '{name}'; did you mean 'grade {close[0]}'?")
            return "exercise", self.commands["exercise"], args
        return super().resolve_command(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage("grade", "EXERCISE [OPTIONS] | COMMAND [ARGS]...")


@click.group(cls=GradeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="course-grader", prog_name="grade")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Grade PyTorch exercises: `grade exercise3` renders workspace/exercise3.py
    if it is missing, grades it and prints what to fix."""
    if ctx.invoked_subcommand in ("exercise", "all", "watch", "check"):
        from grader import sandbox

        sandbox.prestart()  # the sandbox imports torch while this process does the same


@cli.command("exercise", hidden=True)
@click.argument("exercise")
@common_options
def exercise_cmd(exercise: str, workspace: Path | None, course_path: Path | None, fmt: str, output: Path | None,
                 devices: str | None, student: str | None, timeout: float | None) -> None:
    """Grade one exercise (exercise3, 3 or ex3)."""
    course = _open(course_path, workspace)
    ex_id = course.resolve_id(exercise)
    course.exercise(ex_id)  # a broken YAML file is reported at once, before torch is imported
    report = grade_exercise(course, ex_id, _options(devices, timeout, student))
    emit(report, fmt, output, course)
    _exit_for(report)


@cli.command("all")
@common_options
def all_cmd(workspace: Path | None, course_path: Path | None, fmt: str, output: Path | None,
            devices: str | None, student: str | None, timeout: float | None) -> None:
    """Grade every exercise in course order, with a total."""
    from grader.results import CourseReport

    course = _open(course_path, workspace)
    for ex_id in course.exercise_ids:
        course.exercise(ex_id)  # every YAML file valid before the first exercise is graded
    opts = _options(devices, timeout, student)
    reports = tuple(grade_exercise(course, ex_id, opts) for ex_id in course.exercise_ids)
    report = CourseReport(reports, student=student)
    emit(report, fmt, output, course)
    _exit_for(report)


@cli.command("list")
@click.option("--workspace", type=click.Path(path_type=Path, file_okay=False))
@click.option("--course", "course_path", type=click.Path(path_type=Path))
def list_cmd(workspace: Path | None, course_path: Path | None) -> None:
    """Exercises with title, points and your latest score."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    course = _open(course_path, workspace)
    table = Table(title=escape(course.course.title), title_justify="left")
    for col in ("exercise", "title", "points", "your score"):
        table.add_column(col)
    for ex_id in course.exercise_ids:
        exercise = course.exercise(ex_id)
        state = _load_state(course, ex_id)
        stub = course.stub_file(ex_id)
        if not stub.exists():
            score = "[dim]not started[/]"
        elif state is None:
            score = "[dim]not graded yet[/]"
        else:
            rep = state.get("report", {})
            score = f"{rep.get('score', 0):g}/{rep.get('max_score', 0):g}"
            if state.get("hash") != _source_hash(stub):
                score += " [dim](changed since; run grade again)[/]"
            elif rep.get("score") == rep.get("max_score"):
                score = f"[green]{score} ✔[/]"
        table.add_row(ex_id, escape(exercise.title), f"{exercise.max_score:g}", score)
    Console(highlight=False).print(table)


@cli.command("hint")
@click.argument("exercise")
@click.option("--task", help="Task to get a hint for (default: the first one not passed yet).")
@click.option("--workspace", type=click.Path(path_type=Path, file_okay=False))
@click.option("--course", "course_path", type=click.Path(path_type=Path))
def hint_cmd(exercise: str, task: str | None, workspace: Path | None, course_path: Path | None) -> None:
    """Show the next hint for an exercise."""
    from grader.errors import did_you_mean
    from grader.reports import write_atomic

    course = _open(course_path, workspace)
    ex_id = course.resolve_id(exercise)
    ex = course.exercise(ex_id)
    names = [t.name for t in ex.tasks]
    if task is not None and task not in names:
        raise UsageError(f"{ex_id} has no task '{task}'{did_you_mean(task, names)}")
    if task is None:
        state = _load_state(course, ex_id) or {}
        passed = {t.get("name") for t in state.get("report", {}).get("tasks", []) if t.get("status") == "passed"}
        task = next((n for n in names if n not in passed), names[0])
    hints_file = course.state_dir / "hints.json"
    try:
        shown = json.loads(hints_file.read_text())
    except (OSError, ValueError):
        shown = {}
    key = f"{ex_id}.{task}"
    hints = next(t for t in ex.tasks if t.name == task).hints
    if not hints:
        click.echo(f"{ex_id} {task}: no hints for this task; read the exercise text at the top of your file.")
        return
    n = int(shown.get(key, 0))
    hint = hints[min(n, len(hints) - 1)]
    shown[key] = min(n + 1, len(hints))
    try:
        write_atomic(hints_file, json.dumps(shown))
    except OSError:
        pass
    more = "" if n + 1 < len(hints) else " (that was the last hint)"
    click.echo(f"Hint {min(n, len(hints) - 1) + 1}/{len(hints)} for {ex_id} {task}{more}:\n{hint}")


@cli.command("watch")
@click.argument("exercise")
@common_options
def watch_cmd(exercise: str, workspace: Path | None, course_path: Path | None, fmt: str, output: Path | None,
              devices: str | None, student: str | None, timeout: float | None) -> None:
    """Re-grade EXERCISE every time you save it (Ctrl-C to stop)."""
    from grader.watch import watch

    course = _open(course_path, workspace)
    ex_id = course.resolve_id(exercise)
    watch(course, ex_id, _options(devices, timeout, student), grade_exercise)


@cli.command("render")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Folder for the stubs (default: the workspace).")
@click.option("--nbgrader", "nbgrader_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Write nbgrader source notebooks into COURSE_DIR/source/<id>/<id>.ipynb.")
@click.option("--force", is_flag=True, help="Overwrite existing stubs (never the workspace's).")
@click.option("--student", help="Render this student's variant.")
@click.option("--workspace", type=click.Path(path_type=Path, file_okay=False))
@click.option("--course", "course_path", type=click.Path(path_type=Path))
def render_cmd(out: Path | None, nbgrader_dir: Path | None, force: bool, student: str | None,
               workspace: Path | None, course_path: Path | None) -> None:
    """Write the stub files (or nbgrader notebooks)."""
    from grader.render import render_all

    course = _open(course_path, workspace)
    if nbgrader_dir is not None:
        try:
            from grader.notebook import render_nbgrader
        except ImportError:
            raise UsageError("nbgrader rendering is not available in this installation") from None
        for path in render_nbgrader(course, nbgrader_dir, student=student):
            click.echo(f"wrote {path}")
        return
    target = out or course.workspace
    overwrite = force and out is not None and out.resolve() != course.workspace.resolve()
    written = render_all(course, target, student=student, overwrite=overwrite)
    for path in written:
        click.echo(f"wrote {path}")
    skipped = len(course.exercise_ids) - len(written)
    if skipped:
        hint = "" if out is None else " (use --force to replace)"
        click.echo(f"kept {skipped} existing file(s) in {target}{hint}")


@cli.command("check")
@click.option("--devices", help="Comma-separated devices to check (default: all available).")
@click.option("--course", "course_path", type=click.Path(path_type=Path))
def check_cmd(devices: str | None, course_path: Path | None) -> None:
    """Instructor's self-check: YAML valid, solutions full marks, stubs 0, notebooks valid."""
    from grader.check import run_check

    course = _open(course_path, None)
    sys.exit(run_check(course, _options(devices, None, None).devices))


@cli.command("schema")
@click.argument("kind", required=False, type=click.Choice(["course", "exercise"]))
@click.option("--output", type=click.Path(path_type=Path),
              help="Write to FILE (a folder, for both schemas: course.schema.json and exercise.schema.json).")
@click.option("--markdown", is_flag=True, help="The YAML reference as Markdown instead (docs/yaml-reference.md).")
def schema_cmd(kind: str | None, output: Path | None, markdown: bool) -> None:
    """JSON Schema of course.yaml (KIND=course) or of an exercise file (KIND=exercise), or both,
    for editors to validate and complete the YAML; generated from the grader's models."""
    from grader import schemadoc
    from grader.reports import write_atomic

    if markdown and kind is not None:
        raise UsageError("--markdown writes the whole reference (course and exercise files); leave out KIND")
    if output is not None and kind is None and not markdown:
        if output.exists() and not output.is_dir():
            raise UsageError(f"{output} is a file; for both schemas give a folder, or name one: "
                             "grade schema exercise --output FILE")
        for name in schemadoc.KINDS:
            path = output / schemadoc.SCHEMA_FILES[name]
            write_atomic(path, schemadoc.json_text(name))
            _info(f"wrote {path}")
        return
    text = schemadoc.markdown() if markdown else schemadoc.json_text(kind)
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, text)
        _info(f"wrote {output}")


@cli.command("new")
@click.argument("name", required=False)
@click.option("--title", help="The exercise's title (default: 'Exercise N').")
@click.option("--course", "course_path", type=click.Path(path_type=Path))
def new_cmd(name: str | None, title: str | None, course_path: Path | None) -> None:
    """Start a new exercise NAME (exercise14, 14 or ex14; default: the next number): writes
    exercises/<id>.yaml and solutions/<id>.py from a template and adds the id to course.yaml."""
    from grader.loader import display_path
    from grader.scaffold import scaffold

    course = _open(course_path, None)
    made = scaffold(course, name, title)
    click.echo(f"created {display_path(made.exercise_file)} and {display_path(made.solution_file)}, "
               f"and added {made.ex_id} to {display_path(course.course_file)}")
    click.echo("next: write the exercise, then `grade check` (and `grade render` to see the stub)")


@cli.command("batch")
@click.argument("submissions", required=False, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Folder for <student>.json, summary.csv, junit.xml and scores.png (default: grades/).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Warm workers (default: the number of cores).")
@click.option("--resume", is_flag=True,
              help="Skip students whose submission (and the course) did not change since the last run into --out.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Grade on this machine, or on a dask.distributed cluster (--scheduler).")
@click.option("--scheduler", metavar="ADDRESS", help="The dask scheduler, e.g. tcp://scheduler-host:8786.")
@click.option("--exercise", help="Grade only this exercise (a student's single unnamed file is taken to be it).")
@click.option("--variants", is_flag=True,
              help="Grade each student's own variant, as rendered by `grade render --student <student>`.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar with ETA on stderr (default: when stderr is a terminal).")
@click.option("--nbgrader", "nbgrader_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Grade COURSE_DIR/submitted/<student>/<ID>/*.ipynb into nbgrader's gradebook (with --assignment).")
@click.option("--assignment", help="The nbgrader assignment id (with --nbgrader).")
@common_options
def batch_cmd(submissions: Path | None, out: Path | None, jobs: int | None, resume: bool, executor: str,
              scheduler: str | None, exercise: str | None, variants: bool, progress: bool | None,
              nbgrader_dir: Path | None, assignment: str | None, workspace: Path | None, course_path: Path | None,
              fmt: str, output: Path | None, devices: str | None, student: str | None,
              timeout: float | None) -> None:
    """Grade a class: SUBMISSIONS/<student>/<exercise>.py (or a notebook, or <student>.py),
    each isolated, on warm workers; writes one report per student and a summary."""
    from grader.batch import default_jobs

    if workspace is not None:
        raise UsageError("grade batch reads SUBMISSIONS, not a workspace; drop --workspace")
    course = _open(course_path, None)
    opts = _options(devices, timeout, None)
    jobs = jobs or default_jobs()
    if nbgrader_dir is not None:
        if submissions is not None or assignment is None:
            raise UsageError("use either `grade batch SUBMISSIONS` or `grade batch --nbgrader COURSE_DIR "
                             "--assignment ID`")
        try:
            from grader.notebook import batch_nbgrader
        except ImportError:
            raise UsageError("grading nbgrader submissions is not available in this installation "
                             "(grader.notebook.batch_nbgrader is missing)") from None
        sys.exit(batch_nbgrader(course, nbgrader_dir, assignment, opts, jobs, out))
    if submissions is None:
        raise UsageError("missing SUBMISSIONS: the folder with one folder (or file) per student; "
                         "or --nbgrader COURSE_DIR --assignment ID")
    if assignment is not None:
        raise UsageError("--assignment goes with --nbgrader COURSE_DIR")
    if scheduler is not None and executor != "dask":
        raise UsageError("--scheduler goes with --executor dask")
    from grader import batch, reports
    from grader.results import has_grader_error

    result = batch.run_batch(course, submissions, out or Path("grades"), opts, jobs, executor=executor,
                             scheduler=scheduler, resume=resume,
                             progress=sys.stderr.isatty() if progress is None else progress,
                             exercise=exercise, student=student, variants=variants, gradescope=fmt == "gradescope")
    for note in result.notes:
        _info(f"note: {note}")
    for problem in result.stats.problems:
        _info(f"warning: {problem}")
    if fmt == "table":
        if output is None:
            reports.print_batch_summary(course, result.reports)
        else:
            from io import StringIO

            from rich.console import Console

            buf = StringIO()
            reports.print_batch_summary(course, result.reports, console=Console(file=buf, width=120, no_color=True))
            reports.write_atomic(output, buf.getvalue())
    else:
        text = {"json": batch.summary_json, "gradescope": batch.gradescope_json}.get(fmt, None)
        rendered = text(result) if text else reports.to_junit_batch(result.reports)
        if output is None:
            sys.stdout.write(rendered)
            sys.stdout.flush()
        else:
            reports.write_atomic(output, rendered)
    stats = result.stats
    per = f", {stats.seconds / stats.submissions * 1000:.0f} ms per submission" if stats.submissions else ""
    child = f"{stats.child_peak_rss_kb / 1024:.0f} MiB" if stats.child_peak_rss_kb else "not measured"
    memory = (f"; peak memory per worker {stats.worker_peak_rss_kb / 1024:.0f} MiB, per child {child}"
              if stats.worker_peak_rss_kb else "")
    _info(f"graded {len(result.graded)} student(s)" + (f", kept {len(result.resumed)} unchanged" if resume else "")
          + f" in {stats.seconds:.1f} s (warm-up {stats.warmup_seconds:.1f} s) on {stats.workers} worker(s){per}"
          + f"{memory}; reports in {result.out}/")
    if stats.config_errors:
        for problem in stats.config_errors:
            _info(f"error: {problem}")
        sys.exit(2)
    unfinished = [name for name, report in result.reports.items() if has_grader_error(report)]
    if unfinished:
        _info(f"grader_error: the grader could not complete the grading of {len(unfinished)} student(s) "
              f"(run the batch again to grade them; --resume keeps the others): {', '.join(unfinished)}")
        sys.exit(3)
    sys.exit(0)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one place turns exceptions into messages and exit codes."""
    try:
        cli.main(args=argv, prog_name="grade", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    except GraderError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(0)
