"""Renderers: each turns a report (results.py) into one output format."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from grader.results import Report, exercises_of

STATUS_STYLE = {"passed": "green", "failed": "yellow", "error": "red", "timeout": "magenta"}
STATUS_MARK = {"passed": "✔", "failed": "✘", "error": "✘", "timeout": "⏱"}


def to_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


def _points(x: float) -> str:
    return f"{x:g}"


def print_table(report: Report, *, console: object | None = None, show_output: bool = True,
                changed: set[str] | None = None) -> None:
    """The human report: one rich table per exercise, then a total."""
    from rich.console import Console
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    con = console if isinstance(console, Console) else Console(highlight=False)
    exercises = exercises_of(report)
    for ex in exercises:
        table = Table(title=f"{ex.exercise}: {escape(ex.title)}", title_justify="left", expand=False,
                      show_lines=True)
        table.add_column("task", no_wrap=True)
        table.add_column("points", justify="right", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_column("devices", no_wrap=True)
        table.add_column("feedback")
        for t in ex.tasks:
            style = STATUS_STYLE.get(t.status, "")
            name = f"[bold]{escape(t.name)}[/]" if changed and t.name in changed else escape(t.name)
            devs = " ".join(f"[{STATUS_STYLE.get(s, '')}]{d}{'' if s == 'passed' else '✘'}[/]"
                            for d, s in t.devices.items())
            table.add_row(name, f"{_points(t.score)}/{_points(t.max_score)}",
                          f"[{style}]{STATUS_MARK.get(t.status, '')} {t.status}[/]", devs, escape(t.feedback))
        con.print(table)
        if show_output and ex.output.strip():
            con.print(Panel(escape(ex.output.rstrip()), title="your code printed", title_align="left",
                            border_style="dim"))
        con.print(f"[bold]{ex.exercise}: {_points(ex.score)}/{_points(ex.max_score)} points[/]"
                  + (" [green]full marks[/]" if ex.full_marks else ""))
    if len(exercises) > 1:
        con.print(f"[bold]Total: {_points(report.score)}/{_points(report.max_score)} points[/]")


def write_atomic(path: Path, text: str) -> None:
    """Write via a temp file in the same folder and os.replace: readers never see half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def to_junit(report: Report) -> str:
    """JUnit XML: one testsuite per exercise, one testcase per task."""
    from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite  # noqa: F401

    xml = JUnitXml("grade")
    for ex in exercises_of(report):
        suite = TestSuite(ex.exercise)
        for t in ex.tasks:
            case = TestCase(t.name, classname=ex.exercise, time=0.0)
            message = t.feedback.splitlines()[0] if t.feedback else t.status
            if t.status == "failed":
                case.result = [Failure(message, "failed")]
            elif t.status in ("error", "timeout"):
                case.result = [Error(message, t.status)]
            if t.feedback:
                case.system_out = t.feedback
            suite.add_testcase(case)
        suite.add_property("score", f"{ex.score:g}")
        suite.add_property("max_score", f"{ex.max_score:g}")
        xml.add_testsuite(suite)
    text: str = xml.tostring().decode() if isinstance(xml.tostring(), bytes) else str(xml.tostring())
    return text if text.endswith("\n") else text + "\n"


def to_gradescope(report: Report) -> str:
    """Gradescope's results.json."""
    tests = []
    for ex in exercises_of(report):
        for t in ex.tasks:
            tests.append({"name": f"{ex.exercise}: {t.name}", "score": t.score, "max_score": t.max_score,
                          "status": "passed" if t.status == "passed" else "failed",
                          "output": t.feedback or "passed", "visibility": "visible"})
    output = "\n".join(f"{ex.exercise}: {ex.score:g}/{ex.max_score:g}" for ex in exercises_of(report))
    data = {"score": report.score, "output": output, "visibility": "visible", "stdout_visibility": "hidden",
            "tests": tests}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


RENDERERS = {"json": to_json, "junit": to_junit, "gradescope": to_gradescope}


def render(report: Report, fmt: str) -> str:
    return RENDERERS[fmt](report)
