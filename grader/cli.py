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
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.shell_completion import CompletionItem

from grader.errors import ConfigError, GraderError, UsageError
from grader.inert import visible

if TYPE_CHECKING:  # imported when a command runs: `grade --help` and `--version` build no pydantic schema
    from grader.course import CourseDir

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("table", "json", "junit", "gradescope", "classroom")


def course_option(fn: F) -> F:
    """`--course`, the same on every command."""
    return click.option("--course", "course_path", type=click.Path(path_type=Path),
                        help="Course folder or its course.yaml (default: found upward from here).")(fn)


def workspace_option(fn: F) -> F:
    """`--workspace`, the same on every command that reads a student's working copies."""
    return click.option("--workspace", type=click.Path(path_type=Path, file_okay=False),
                        help="Folder of the student's working copies (default: <course>/workspace).")(fn)


def grading_options(*, workspace: bool = True,
                    student: str = "Student id: grade (and render) that student's variant.") -> Callable[[F], F]:
    """Options every grading command shares (see CONTRACT.md); `grade batch` reads no workspace
    and its --student picks one student of the class."""
    def apply(fn: F) -> F:
        decorators = [
            *([workspace_option] if workspace else []),
            course_option,
            click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                         help="Report format."),
            click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
                         help="Write the report to FILE (atomically) instead of standard output."),
            click.option("--devices",
                         help="Comma-separated devices to check, e.g. cpu,meta (default: all available)."),
            click.option("--student", help=student),
            click.option("--timeout", type=click.FloatRange(min=0, min_open=True),
                         help="Seconds per task, overriding the YAML."),
        ]
        for deco in reversed(decorators):
            fn = deco(fn)
        return fn
    return apply


common_options = grading_options()


def _open(course_path: Path | None, workspace: Path | None) -> CourseDir:
    from grader.course import CourseDir

    return CourseDir.open(course_path, workspace)


def _exercise_ids(ctx: click.Context) -> list[str]:
    """The course's exercise ids for shell completion (none where no course is found)."""
    params = {**(ctx.parent.params if ctx.parent else {}), **ctx.params}
    try:
        return list(_open(params.get("course_path"), None).exercise_ids)
    except (GraderError, ConfigError, OSError):
        return []


def exercise_completions(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    """Exercise ids that start with what was typed; a path (`workspace/ex<TAB>`) is left to the shell."""
    if "/" in incomplete or incomplete.startswith("."):
        return [CompletionItem(incomplete, type="file")]
    return [CompletionItem(i) for i in _exercise_ids(ctx) if i.startswith(incomplete)]


def complete_exercise(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Shell completion of an EXERCISE argument."""
    return exercise_completions(ctx, incomplete)


def _exercise_file(course: CourseDir, exercise: str) -> tuple[str, Path | None]:
    """The exercise named on the command line, and the file to grade when it is a path
    (`grade workspace/exercise3.py`, what tab completion gives); None: the workspace's file."""
    if not (exercise.endswith(".py") or "/" in exercise):
        return course.resolve_id(exercise), None
    path = Path(exercise)
    if not path.is_file():
        raise UsageError(f"{exercise}: no such file; name an exercise (exercise3, 3 or ex3) or a .py file to grade")
    return course.resolve_id(path.stem), path


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


def grade_exercise(course: CourseDir, ex_id: str, opts: Any, *, announce: bool = True,
                   path: Path | None = None) -> Any:
    """Render the stub if missing, grade the student's file, remember the result. A `path`
    other than the workspace's file is graded as it is, and not remembered for `grade list`."""
    from grader.grading import grade_file
    from grader.render import ensure_stub, variant_mismatch

    if path is not None and path.resolve() != course.stub_file(ex_id).resolve():
        return grade_file(course, ex_id, path, opts)
    path, created = ensure_stub(course, ex_id, opts.student)
    if created and announce:
        _info(f"Created {path} from exercises/{ex_id}.yaml: open it and write your answers.")
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        source = ""  # grade_file reports an unreadable file
    problem = variant_mismatch(course.exercise(ex_id), ex_id, path, source, opts.student)
    if problem:
        raise UsageError(problem)
    report = grade_file(course, ex_id, path, opts)
    _save_state(course, report, path)
    return report


class GradeGroup(click.Group):
    """`grade exercise3` means `grade exercise exercise3`; typos of commands get a suggestion."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        ctx.meta["grade.asks_help"] = any(a in ctx.help_option_names for a in args)
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in self.commands:
            close = difflib.get_close_matches(name, [c for c in self.commands if c != "exercise"], n=1, cutoff=0.75)
            if close and not any(ch.isdigit() for ch in name):
                raise click.UsageError(f"no command '{name}'; did you mean 'grade {close[0]}'?")
            return name, self.commands["exercise"], args  # named as typed: `grade exercise3 --help`
        return super().resolve_command(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage("grade", "EXERCISE [OPTIONS] | COMMAND [ARGS]...")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The options of `grade EXERCISE` first: that is what most people run."""
        rows = [r for p in self.commands["exercise"].get_params(ctx)
                if p.name != "help" and (r := p.get_help_record(ctx)) is not None]
        with formatter.section("Grading options (grade EXERCISE [OPTIONS])"):
            formatter.write_dl(rows)
        super().format_options(ctx, formatter)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Commands, and the exercise ids `grade EXERCISE` takes."""
        return [*super().shell_complete(ctx, incomplete), *exercise_completions(ctx, incomplete)]


class ExerciseCommand(click.Command):
    """`grade EXERCISE`: its usage line names the exercise as typed, not the hidden command."""

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if ctx.info_name == self.name:
            super().format_usage(ctx, formatter)
        else:
            formatter.write_usage(ctx.command_path, "[OPTIONS]")


def _torch_version() -> str | None:
    """torch's own `torch.__version__`, build tag included (`2.14.1+cu130`, `2.13.0+cpu`: which
    devices it can use), read from its `version.py` without importing torch; the package
    metadata lacks the tag for wheels from PyPI."""
    import ast
    import importlib.util

    try:
        spec = importlib.util.find_spec("torch")
        folder = spec.submodule_search_locations[0] if spec and spec.submodule_search_locations else None
        if folder is None:
            return None
        with open(Path(folder) / "version.py", encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, ValueError, SyntaxError, ImportError):
        return None
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Constant) \
                and any(isinstance(t, ast.Name) and t.id == "__version__"
                        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])):
            return str(node.value.value)
    return None


def _print_versions(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """`grade --version`: the grader's, torch's and Python's versions, read from the installed
    packages' metadata (importing torch would take seconds)."""
    if not value or ctx.resilient_parsing:
        return
    import platform
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    click.echo(f"grade (course-grader) {installed('course-grader')}\ntorch {_torch_version() or installed('torch')}\n"
               f"Python {platform.python_version()} ({platform.python_implementation()}, {sys.executable})")
    ctx.exit()


@click.group(cls=GradeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_versions,
              help="Show the grader's, torch's and Python's versions and exit.")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Grade PyTorch exercises: `grade exercise3` renders workspace/exercise3.py
    if it is missing, grades it and prints what to fix."""
    grading = ctx.invoked_subcommand not in cli.commands or ctx.invoked_subcommand in ("exercise", "all", "watch",
                                                                                          "check")
    if grading and not ctx.meta.get("grade.asks_help"):
        from grader import boundary

        boundary.prestart()  # the sandbox imports torch while this process does the same


@cli.command("exercise", cls=ExerciseCommand, hidden=True)
@click.argument("exercise", shell_complete=complete_exercise)
@common_options
def exercise_cmd(exercise: str, workspace: Path | None, course_path: Path | None, fmt: str, output: Path | None,
                 devices: str | None, student: str | None, timeout: float | None) -> None:
    """Grade one exercise: exercise3, 3 or ex3 (workspace/exercise3.py), or the .py file named."""
    course = _open(course_path, workspace)
    ex_id, path = _exercise_file(course, exercise)
    course.exercise(ex_id)  # a broken YAML file is reported at once, before torch is imported
    report = grade_exercise(course, ex_id, _options(devices, timeout, student), path=path)
    emit(report, fmt, output, course)
    _exit_for(report)


@cli.command("all")
@common_options
def all_cmd(workspace: Path | None, course_path: Path | None, fmt: str, output: Path | None,
            devices: str | None, student: str | None, timeout: float | None) -> None:
    """Grade every exercise in course order, with a total."""
    from grader.results import CourseReport

    course = _open(course_path, workspace)
    ids, broken = course.loadable()  # every YAML file read before the first exercise is graded
    opts = _options(devices, timeout, student)
    reports = tuple(grade_exercise(course, ex_id, opts) for ex_id in ids)
    report = CourseReport(reports, student=student)
    emit(report, fmt, output, course)
    _exit_broken(broken, "not graded")
    _exit_for(report)


def _exit_broken(broken: dict[str, ConfigError], what: str) -> None:
    """Name each exercise whose file cannot be loaded (after the others were served) and exit 2."""
    for ex_id, exc in broken.items():
        click.echo(f"{ex_id} {what}: {exc}", err=True)
    if broken:
        sys.exit(2)


@cli.command("list")
@workspace_option
@course_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="A table, or JSON for scripts (README: `grade list --format json`).")
def list_cmd(workspace: Path | None, course_path: Path | None, fmt: str) -> None:
    """Exercises with title, points and your latest score."""
    course = _open(course_path, workspace)
    rows: list[dict[str, Any]] = []
    ids, broken = course.loadable()
    for ex_id in course.exercise_ids:
        if ex_id not in ids:
            rows.append({"exercise": ex_id, "title": None, "max_score": None, "status": "cannot be loaded",
                         "score": None, "graded_max_score": None, "error": str(broken[ex_id])})
            continue
        exercise = course.exercise(ex_id)
        state = _load_state(course, ex_id)
        stub = course.stub_file(ex_id)
        rep = (state or {}).get("report", {})
        status = ("not started" if not stub.exists() else "not graded" if state is None
                  else "changed" if state.get("hash") != _source_hash(stub) else "graded")
        rows.append({"exercise": ex_id, "title": exercise.title, "max_score": exercise.max_score, "status": status,
                     "score": rep.get("score") if state is not None else None,
                     "graded_max_score": rep.get("max_score") if state is not None else None})
    if fmt == "json":
        data = {"version": 1, "course": course.course.title, "exercises": rows}
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        _exit_broken(broken, "cannot be loaded")
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(course.course.title), title_justify="left")
    for col in ("exercise", "title", "points", "your score"):
        table.add_column(col)
    for row in rows:
        if row["status"] == "cannot be loaded":
            table.add_row(row["exercise"], "[red]cannot be loaded (see below)[/]", "-", "-")
            continue
        score = f"{row['score'] or 0:g}/{row['graded_max_score'] or 0:g}"
        shown = {"not started": "[dim]not started[/]", "not graded": "[dim]not graded yet[/]",
                 "changed": f"{score} [dim](changed since; run grade again)[/]",
                 "graded": f"[green]{score} ✔[/]" if row["score"] == row["graded_max_score"] else score}
        table.add_row(row["exercise"], escape(row["title"]), f"{row['max_score']:g}", shown[row["status"]])
    Console(highlight=False).print(table)
    _exit_broken(broken, "cannot be loaded")


@cli.command("hint")
@click.argument("exercise", shell_complete=complete_exercise)
@click.option("--task", help="Task to get a hint for (default: the first one not passed yet).")
@click.option("--all", "show_all", is_flag=True, help="Show again every hint already shown (all tasks, or --task's).")
@workspace_option
@course_option
def hint_cmd(exercise: str, task: str | None, show_all: bool, workspace: Path | None,
             course_path: Path | None) -> None:
    """Show the next hint for an exercise (hints climb from the idea to the approach to code)."""
    from grader.errors import did_you_mean
    from grader.reports import write_atomic

    course = _open(course_path, workspace)
    ex_id = course.resolve_id(exercise)
    ex = course.exercise(ex_id)
    names = [t.name for t in ex.tasks]
    if task is not None and task not in names:
        raise UsageError(f"{ex_id} has no task '{task}'{did_you_mean(task, names)}")
    hints_file = course.state_dir / "hints.json"
    try:
        shown = json.loads(hints_file.read_text())
    except (OSError, ValueError):
        shown = {}
    if not isinstance(shown, dict):
        shown = {}
    hints_of = {t.name: t.hints for t in ex.tasks}

    def seen(name: str) -> int:
        count = shown.get(f"{ex_id}.{name}", 0)
        return min(count, len(hints_of[name])) if isinstance(count, int) else 0

    if show_all:
        lines = [f"Hint {i + 1}/{len(hints_of[name])} for {ex_id} {name}:\n{hints_of[name][i]}"
                 for name in ([task] if task else names) for i in range(seen(name))]
        which = f"{ex_id} {task}" if task else ex_id
        click.echo("\n\n".join(lines) if lines else
                   f"No hints shown yet for {which}; `grade hint {ex_id}` shows the next one.")
        return
    if task is None:
        state = _load_state(course, ex_id) or {}
        report = state.get("report")
        report = report if isinstance(report, dict) else {}
        passed = {t.get("name") for t in report.get("tasks", []) if isinstance(t, dict) and t.get("status") == "passed"}
        task = next((n for n in names if n not in passed), None)
        if task is None:
            click.echo(f"{ex_id}: full marks at your last grading, every task passed; no hint needed. "
                       f"`grade hint {ex_id} --all` shows the hints you have seen, "
                       f"`grade hint {ex_id} --task NAME` the next one of a task.")
            return
    key = f"{ex_id}.{task}"
    hints = hints_of[task]
    if not hints:
        click.echo(f"{ex_id} {task}: no hints for this task; read the exercise text at the top of your file.")
        return
    n = seen(task)
    hint = hints[min(n, len(hints) - 1)]
    shown[key] = min(n + 1, len(hints))
    try:
        write_atomic(hints_file, json.dumps(shown))
    except OSError:
        pass
    more = "" if n + 1 < len(hints) else f" (that was the last hint; `grade hint {ex_id} --all` shows them all again)"
    click.echo(f"Hint {min(n, len(hints) - 1) + 1}/{len(hints)} for {ex_id} {task}{more}:\n{hint}")


@cli.command("watch")
@click.argument("exercise", shell_complete=complete_exercise)
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
@workspace_option
@course_option
def render_cmd(out: Path | None, nbgrader_dir: Path | None, force: bool, student: str | None,
               workspace: Path | None, course_path: Path | None) -> None:
    """Write the stub files (or nbgrader notebooks)."""
    from grader.render import render_all, whose_questions

    course = _open(course_path, workspace)
    if nbgrader_dir is not None:
        try:
            from grader.notebook_render import render_nbgrader
        except ImportError:
            raise UsageError("nbgrader rendering is not available in this installation") from None
        for path in render_nbgrader(course, nbgrader_dir, student=student):
            click.echo(f"wrote {path}")
        return
    target = out or course.workspace
    overwrite = force and out is not None and out.resolve() != course.workspace.resolve()
    kept: list[Path] = []
    written = render_all(course, target, student=student, overwrite=overwrite, kept=kept)
    for path in written:
        click.echo(f"wrote {path}")
    if kept:
        hint = "" if out is None else " (use --force to replace)"
        click.echo(f"kept {len(kept)} existing file(s) in {target}{hint}:")
        for path in kept:
            holds = whose_questions(course, path.stem, path)
            wanted = f"{student}'s questions" if student else "the common questions"
            note = f" ({holds}" + (f", not {wanted}: rename it and render again" if holds != wanted else "") + ")" \
                if holds else ""
            click.echo(f"  {path.name}{note}")


@cli.command("check")
@click.argument("exercises", nargs=-1)
@click.option("--devices", help="Comma-separated devices to check (default: all available).")
@course_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="A table, or JSON for scripts and CI (README: `grade check --format json`).")
def check_cmd(exercises: tuple[str, ...], devices: str | None, course_path: Path | None, fmt: str) -> None:
    """Instructor's self-check of the course, or of the EXERCISES named (exercise3, 3 or ex3):
    YAML valid, solutions full marks, stubs 0, no generic wrong answer scores, notebooks valid."""
    from grader.check import run_check

    course = _open(course_path, None)
    only = [course.resolve_id(name) for name in exercises] or None
    sys.exit(run_check(course, _options(devices, None, None).devices, only, fmt=fmt))


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
@course_option
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
@click.option("-j", "--jobs", type=click.IntRange(min=1),
              help="Warm workers (default: one more than the number of cores).")
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
@grading_options(workspace=False, student="Grade only this student: the folder SUBMISSIONS/ID, or the file "
                 "SUBMISSIONS/ID.py or .ipynb (not with --nbgrader).")
def batch_cmd(submissions: Path | None, out: Path | None, jobs: int | None, resume: bool, executor: str,
              scheduler: str | None, exercise: str | None, variants: bool, progress: bool | None,
              nbgrader_dir: Path | None, assignment: str | None, course_path: Path | None,
              fmt: str, output: Path | None, devices: str | None, student: str | None,
              timeout: float | None) -> None:
    """Grade a class: SUBMISSIONS/<student>/<exercise>.py (or a notebook, or <student>.py),
    each isolated, on warm workers; writes one report per student and a summary."""
    from grader.batch import default_jobs

    course = _open(course_path, None)
    opts = _options(devices, timeout, None)
    jobs = jobs or default_jobs()
    if nbgrader_dir is not None:
        if submissions is not None or assignment is None:
            raise UsageError("use either `grade batch SUBMISSIONS` or `grade batch --nbgrader COURSE_DIR "
                             "--assignment ID`")
        if student is not None:
            raise UsageError("--student picks a student of SUBMISSIONS; --nbgrader grades the whole submitted/ folder")
        try:
            from grader.nbgrader_batch import batch_nbgrader
        except ImportError:
            raise UsageError("grading nbgrader submissions is not available in this installation "
                             "(grader.nbgrader_batch is missing)") from None
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
    for note in [*result.notes, *result.notices]:
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


@cli.command("report")
@click.argument("out", required=False, type=click.Path(path_type=Path))
@click.option("--course", "course_path", type=click.Path(path_type=Path),
              help="Course folder or its course.yaml (default: found upward from here).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="With a REPORT.json: the format to render it in.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="With a REPORT.json: write to FILE (atomically) instead of standard output.")
def report_cmd(out: Path | None, course_path: Path | None, fmt: str, output: Path | None) -> None:
    """Rebuild report.html, summary.csv, junit.xml and scores.png in OUT (default: grades/)
    from the <student>.json files `grade batch` wrote there, without grading again; or render
    one saved JSON report (OUT=REPORT.json) in another --format."""
    from grader import batch

    if out is not None and out.is_file():
        course = None  # Gradescope's settings come from the course, where there is one
        if fmt == "gradescope":
            try:
                course = _open(course_path, None)
            except UsageError:
                if course_path is not None:
                    raise
        emit(batch.load_report_file(out), fmt, output, course)
        return
    if output is not None or fmt != "table":
        raise UsageError("--format and --output go with a REPORT.json; for a folder, grade report rebuilds its files")
    course = _open(course_path, None)
    folder = out or Path("grades")
    reports = batch.load_reports(folder)
    notices: list[str] = []
    for path in batch.write_class_files(course, folder, reports, notices):
        click.echo(f"wrote {path}")
    for notice in notices:
        _info(f"note: {notice}")
    _info(f"class report of {len(reports)} student(s): {folder / 'report.html'}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: one place turns exceptions into messages and exit codes."""
    try:
        cli.main(args=argv, prog_name="grade", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            sys.exit(130)
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
