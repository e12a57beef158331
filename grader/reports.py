"""Renderers: each turns a report (results.py) into one output format."""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.inert import visible
from grader.results import ExerciseReport, Report, duration_text, exercises_of, has_deadline, late_summary

if TYPE_CHECKING:  # imported where used: `grade exercise3` renders a table and needs neither
    import xml.etree.ElementTree as ET

    from grader.course import CourseDir

STATUS_STYLE = {"passed": "green", "failed": "yellow", "error": "red", "timeout": "magenta", "grader_error": "blue"}
STATUS_MARK = {"passed": "✔", "failed": "✘", "error": "✘", "timeout": "⏱", "grader_error": "⚠"}
ERROR_STATUSES = ("error", "timeout", "grader_error")
"""Reported as JUnit <error> (the status is its type); `failed` is a <failure>."""


def to_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


def points_text(x: float) -> str:
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
            name = (f"[bold reverse]{escape(t.name)}[/] [bold cyan]◀ changed[/]" if changed and t.name in changed
                    else escape(t.name))
            devs = " ".join(f"[{STATUS_STYLE.get(s, '')}]{d}{'' if s == 'passed' else '✘'}[/]"
                            for d, s in t.devices.items())
            table.add_row(name, f"{points_text(t.score)}/{points_text(t.max_score)}",
                          f"[{style}]{STATUS_MARK.get(t.status, '')} {t.status}[/]", devs, escape(t.feedback))
        con.print(table)
        if show_output and ex.output.strip():
            con.print(Panel(escape(ex.output.rstrip()), title="your code printed", title_align="left",
                            border_style="dim"))
        con.print(f"[bold]{ex.exercise}: {points_text(ex.score)}/{points_text(ex.max_score)} points[/]"
                  + (" [green]full marks[/]" if ex.full_marks else ""))
        if ex.late and ex.submitted_at and ex.deadline:
            con.print(f"[yellow]late:[/] handed in {ex.submitted_at.isoformat()}, {duration_text(ex.late_by_s or 0)} "
                      f"after the deadline {ex.deadline.isoformat()} (no points taken off)")
    if len(exercises) > 1:
        con.print(f"[bold]Total: {points_text(report.score)}/{points_text(report.max_score)} points[/]")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write via a temp file in the same folder and os.replace: readers never see half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # as open() would create it, not mkstemp's 0600
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ---------------------------------------------------------------- JUnit XML

def _junit_suite(ex: ExerciseReport, name: str, classname: str) -> ET.Element:
    """One <testsuite> per exercise, one <testcase> per task, in the order of the common JUnit
    schema (properties, testcase*, system-out). A task's feedback is its <failure> or <error>
    text, once; its time is the task's own; `file`/`line` point at the student's file where
    the feedback names a line of it (annotations in CI). Property names carry the suite's name:
    readers that merge the properties of all suites (xunitparser) refuse a name twice."""
    import xml.etree.ElementTree as ET

    failures = sum(t.status == "failed" for t in ex.tasks)
    errors = sum(t.status in ERROR_STATUSES for t in ex.tasks)
    name, classname = _xml_text(name), _xml_text(classname)
    suite = ET.Element("testsuite", name=name, tests=str(len(ex.tasks)), failures=str(failures),
                       errors=str(errors), skipped="0", time=f"{ex.seconds:.3f}")
    props = ET.SubElement(suite, "properties")
    for key, value in (("score", points_text(ex.score)), ("max_score", points_text(ex.max_score)),
                       ("isolation", ex.isolation)):
        ET.SubElement(props, "property", name=f"{name}.{key}", value=value)
    for t in ex.tasks:
        case = ET.SubElement(suite, "testcase", name=t.name, classname=classname, time=f"{t.seconds:.3f}")
        where = student_location(t.feedback)
        if where is not None:
            case.set("file", where[0])
            case.set("line", str(where[1]))
        first = t.feedback.splitlines()[0] if t.feedback.strip() else t.status
        if t.status == "failed":
            ET.SubElement(case, "failure", message=_xml_text(first[:500]), type="failed").text = _xml_text(t.feedback)
        elif t.status in ERROR_STATUSES:
            ET.SubElement(case, "error", message=_xml_text(first[:500]), type=t.status).text = _xml_text(t.feedback)
        ET.SubElement(case, "system-out").text = f"{points_text(t.score)}/{points_text(t.max_score)} points"
    if ex.output:
        ET.SubElement(suite, "system-out").text = _xml_text(ex.output)
    return suite


_FRAME = re.compile(r'File "([^"\n]+)", line (\d+)|\(([^(),\n]+), line (\d+)\)')


def student_location(feedback: str) -> tuple[str, int] | None:
    """The innermost line of the student's file that the feedback names (a traceback frame,
    or a SyntaxError's `(exercise3.py, line 8)`); None when it names none. Only a bare `.py`
    name is the student's: the grader's own files never appear as one, and a path a student
    wrote into an exception message cannot point CI at another file."""
    found = None
    for m in _FRAME.finditer(feedback):
        file, line = (m[1], m[2]) if m[1] else (m[3], m[4])
        if re.fullmatch(r"[\w.-]+\.py", file):
            found = (file, int(line))
    return found


def _xml_text(text: str) -> str:
    """XML 1.0 cannot hold most control characters, whatever the student printed or named."""
    return visible(text)


def _junit_document(suites: list[ET.Element]) -> str:
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="grade")
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in suites)))
    root.set("time", f"{sum(float(s.get('time', '0')) for s in suites):.3f}")
    root.extend(suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def to_junit(report: Report) -> str:
    """JUnit XML: one testsuite per exercise, one testcase per task (failed: <failure>,
    error or timeout: <error>), the score as suite properties."""
    prefix = f"{report.student}." if report.student else ""
    return _junit_document([_junit_suite(ex, f"{prefix}{ex.exercise}", f"{prefix}{ex.exercise}")
                            for ex in exercises_of(report)])


def to_junit_batch(reports: Mapping[str, Report]) -> str:
    """A class in one JUnit file: a testsuite per student and exercise (`alice.exercise3`)."""
    return _junit_document([_junit_suite(ex, f"{student}.{ex.exercise}", f"{student}.{ex.exercise}")
                            for student, report in reports.items() for ex in exercises_of(report)])


# ---------------------------------------------------------------- Gradescope

GRADESCOPE_OUTPUT = 8000
"""Characters of the student's printed output in results.json (the rest is cut with a marker)."""


def to_gradescope(report: Report, *, hidden_visibility: str = "after_published") -> str:
    """Gradescope's results.json: the score, one visible test per task, and for a task with
    hidden cases a second test with the course's `hidden_visibility` that carries the task's
    points (they depend on the hidden cases); the student's printed output, truncated."""
    tests: list[dict[str, Any]] = []
    exercises = exercises_of(report)
    for ex in exercises:
        for t in ex.tasks:
            status = "passed" if t.status == "passed" else "failed"
            if t.hidden is None:
                tests.append({"name": f"{ex.exercise}: {t.name}", "score": t.score, "max_score": t.max_score,
                              "status": status, "output": t.feedback or "passed", "output_format": "text",
                              "visibility": "visible"})
                continue
            hidden_only = t.status != "passed" and t.hidden["status"] != "passed" \
                and t.feedback == t.hidden["feedback"]
            shown = t.status == "passed" or hidden_only
            tests.append({"name": f"{ex.exercise}: {t.name} (visible cases)", "score": 0.0, "max_score": 0.0,
                          "status": "passed" if shown else "failed",
                          "output": "passed" if shown else t.feedback or t.status, "output_format": "text",
                          "visibility": "visible"})
            tests.append({"name": f"{ex.exercise}: {t.name} (hidden cases)", "score": t.score,
                          "max_score": t.max_score, "status": status,
                          "output": t.hidden["feedback"] or ("passed" if t.status == "passed" else
                                                             "not graded: the visible cases failed"),
                          "output_format": "text", "visibility": hidden_visibility})
    printed = "\n".join(ex.output.rstrip() for ex in exercises if ex.output.strip())
    if len(printed) > GRADESCOPE_OUTPUT:
        printed = printed[:GRADESCOPE_OUTPUT] + \
            f"\n... [output truncated: {len(printed) - GRADESCOPE_OUTPUT} more characters] ..."
    output = "\n".join(f"{ex.exercise}: {points_text(ex.score)}/{points_text(ex.max_score)} points" for ex in exercises)
    if printed:
        output += f"\n\nyour code printed:\n{printed}"
    data = {"score": report.score, "execution_time": round(sum(ex.seconds for ex in exercises), 3),
            "output": output, "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden",
            "tests": tests}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- GitHub Classroom

def to_classroom(report: Report) -> str:
    """The result of a GitHub Classroom autograding runner (what `autograding-command-grader`
    hands to `autograding-grading-reporter`, base64-encoded): one test per task with its own
    score, so the reporter posts "Points <score>/<max>" on the check run, which Classroom shows."""
    tests = []
    exercises = exercises_of(report)
    for ex in exercises:
        for t in ex.tasks:
            where = student_location(t.feedback)
            tests.append({"name": f"{ex.exercise}: {t.name}", "status": _CLASSROOM_STATUS.get(t.status, "error"),
                          "message": t.feedback, "test_code": f"grade {ex.exercise}",
                          "filename": where[0] if where else "", "line_no": where[1] if where else 0,
                          "execution_time": f"{t.seconds:.3f}s", "score": t.score})
    status = "pass" if all(t["status"] == "pass" for t in tests) else (
        "error" if any(t["status"] == "error" for t in tests) else "fail")
    data = {"version": 1, "status": status, "max_score": report.max_score, "tests": tests}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


_CLASSROOM_STATUS = {"passed": "pass", "failed": "fail"}
"""Anything else (error, timeout, grader_error) is the runner's `error`."""


# ---------------------------------------------------------------- a class (grade batch)

def exercise_order(reports: Mapping[str, Report], course_order: list[str]) -> list[str]:
    seen = {ex.exercise for r in reports.values() for ex in exercises_of(r)}
    return [e for e in course_order if e in seen] + sorted(seen - set(course_order))


def graded_by_exercise(course: CourseDir, reports: Mapping[str, Report]) -> dict[str, list[ExerciseReport]]:
    """Each exercise the class handed in (course order first), with every student's report of it."""
    return {e: [ex for r in reports.values() for ex in exercises_of(r) if ex.exercise == e]
            for e in exercise_order(reports, course.exercise_ids)}


def flag_summary(report: Report) -> str:
    """`exercise4:threads@12 exercise4:torch.jit@15`: where a student's files look like tampering."""
    return " ".join(f"{ex.exercise}:{f.rule}@{f.line}" for ex in exercises_of(report) for f in ex.flags)


def summary_csv(course: CourseDir, reports: Mapping[str, Report]) -> str:
    """One row per student; columns: total, then each exercise and each of its tasks, the review
    flags and, where the reports were graded against a deadline, what was late and by how much."""
    import csv

    exercises = exercise_order(reports, course.exercise_ids)
    tasks = {e: [t.name for t in course.exercise(e).tasks] for e in exercises}
    header = ["student", "score", "max_score"]
    for e in exercises:
        header += [e] + [f"{e}.{t}" for t in tasks[e]]
    header.append("flags")
    dated = has_deadline(reports.values())
    if dated:
        header.append("late")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for student, report in reports.items():
        by_ex = {ex.exercise: ex for ex in exercises_of(report)}
        row = [visible(student), points_text(report.score), points_text(report.max_score)]
        for e in exercises:
            ex = by_ex.get(e)
            scores = {t.name: t.score for t in ex.tasks} if ex else {}
            row += [points_text(ex.score) if ex else ""]
            row += [points_text(scores[t]) if t in scores else "" for t in tasks[e]]
        row.append(flag_summary(report))
        if dated:
            row.append(late_summary(report))
        writer.writerow(row)
    return buf.getvalue()


def print_batch_summary(course: CourseDir, reports: Mapping[str, Report], *, console: object | None = None) -> None:
    """`grade batch`'s table: per exercise, how the class did (the per-student files have the rest)."""
    from rich.console import Console
    from rich.table import Table

    con = console if isinstance(console, Console) else Console(highlight=False)
    table = Table(title=f"{len(reports)} students", title_justify="left")
    for col, justify in (("exercise", "left"), ("submissions", "right"), ("mean", "right"), ("median", "right"),
                         ("full marks", "right"), ("errors", "right"), ("timeouts", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for e, graded in graded_by_exercise(course, reports).items():
        scores = sorted(ex.score for ex in graded)
        top = max((ex.max_score for ex in graded), default=0.0)
        median = (scores[(len(scores) - 1) // 2] + scores[len(scores) // 2]) / 2 if scores else 0.0
        table.add_row(e, str(len(graded)), f"{sum(scores) / len(scores):.3g}/{points_text(top)}" if scores else "-",
                      f"{median:g}", str(sum(ex.full_marks for ex in graded)),
                      str(sum(any(t.status == "error" for t in ex.tasks) for ex in graded)),
                      str(sum(any(t.status == "timeout" for t in ex.tasks) for ex in graded)))
    con.print(table)
    _student_notes(con, reports, flag_summary, "[bold yellow]worth a look[/] (code that reaches into the interpreter "
                   "or the grader; no points changed)")
    _student_notes(con, reports, late_summary,
                   "[bold yellow]late[/] (handed in after the deadline; no points taken off)")


def _student_notes(con: Any, reports: Mapping[str, Report], note: Callable[[Report], str], header: str) -> None:
    """Under the batch table: the students `note` says something of, with what it says."""
    from rich.markup import escape

    notes = {student: text for student, report in reports.items() if (text := note(report))}
    if notes:
        con.print(f"{header}: {len(notes)} student{'s' if len(notes) != 1 else ''}")
        for student, text in notes.items():
            con.print(f"  {escape(visible(student))}: {escape(visible(text))}")

RENDERERS = {"json": to_json, "junit": to_junit, "gradescope": to_gradescope, "classroom": to_classroom}


def render(report: Report, fmt: str, course: CourseDir | None = None) -> str:
    """`report` in `fmt`; the course gives format settings (Gradescope's hidden-case visibility)."""
    if fmt == "gradescope" and course is not None:
        return to_gradescope(report, hidden_visibility=course.course.gradescope.hidden_visibility)
    return RENDERERS[fmt](report)
