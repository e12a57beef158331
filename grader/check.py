"""`grade check`: the instructor's proof that the course is consistent.

Every YAML valid (task names unique) and listed in course.yaml, and nothing
listed that is missing; every reference solution full marks on every device
through the same isolated runner students get, also on a sample student's
variant; every unedited stub 0; every written `expected` equal to the
reference's result; at least two hints per task, the first of which quotes no
code of the reference solution (hints climb from the idea to the approach to code).
"""

from __future__ import annotations

import ast
import inspect
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from grader.compare import Tolerance, compare_values
from grader.course import CourseDir
from grader.errors import ConfigError, GraderError
from grader.loader import YamlLines, display_path
from grader.probes import probe_findings, probe_problems, unusable_result
from grader.results import ExerciseReport

MIN_HINTS = 2
SAMPLE_STUDENT = "grade-check"
"""The student id whose variant `grade check` also grades the reference solution on."""


@dataclass
class ExerciseCheck:
    ex_id: str
    problems: list[str] = field(default_factory=list)
    solution: ExerciseReport | None = None
    stub: ExerciseReport | None = None
    variant: ExerciseReport | None = None
    """The reference graded as SAMPLE_STUDENT, for exercises with `variant:` cases."""
    broken: bool = False
    """The exercise file could not be loaded (a configuration error: `grade check` exits 2)."""


def _expected_problems(course: CourseDir, ex_id: str) -> list[str]:
    """Reference results the grader cannot use, and visible cases whose written `expected`
    disagrees with the reference solution."""
    from grader.grading import GradeOptions, load_solution, plan, references

    exercise = course.exercise(ex_id)
    solution = load_solution(course, ex_id)
    problems = []
    where = _Locator(course.exercise_file(ex_id))
    solution_file = display_path(course.solution_file(ex_id))
    for t, p in enumerate(plan(course, ex_id, exercise, GradeOptions(devices=("cpu",)))):
        if p.task.kind != "function":
            continue
        for i, (case, ref) in enumerate(zip(p.task.cases, references(solution, p, ex_id), strict=True)):
            unusable = unusable_result(ref.expected)
            if unusable:
                problems.append(f"{solution_file}: the reference {p.task.reference or p.task.name} {unusable} "
                                f"on case {i + 1} of task {p.task.name} ({ref.label})")
                continue
            if case.expected is None:
                continue
            problem = _disagreement(ref.expected, case.expected)
            if problem:
                problems.append(f"{where(t, 'cases', i, 'expected')} the written value {case.expected!r} "
                                f"disagrees with the reference solution ({problem})")
    return problems


class _Locator:
    """`exercises/x.yaml:LINE: tasks[t].key[i].sub:` prefixes for problems found after loading."""

    def __init__(self, path: Path) -> None:
        self.shown = display_path(path)
        self.lines = YamlLines(path)

    def __call__(self, task: int, *keys: str | int) -> str:
        line = self.lines(("tasks", task, *keys))
        path = f"tasks[{task}]"
        for part in keys:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        return f"{self.shown}:{line}: {path}:" if line else f"{self.shown}: {path}:"


def _disagreement(reference: object, written: object, where: str = "") -> str:
    """Why a written `expected` value differs from the reference's result ('' when it agrees).

    Numbers agree within 1e-4 (the learner reads rounded values); tuples and
    lists agree item by item; tensors agree in shape and values.
    """
    at = f" at {where}" if where else ""
    if isinstance(reference, torch.Tensor):
        try:
            tensor = torch.tensor(written, dtype=reference.dtype)
        except (TypeError, ValueError, RuntimeError) as exc:
            return f"cannot be read as a tensor{at}: {exc}"
        if tensor.shape != reference.shape:
            return f"shape {tuple(tensor.shape)} instead of {tuple(reference.shape)}{at}"
        verdict = compare_values(reference, tensor, tol=Tolerance(rtol=1e-4, atol=1e-4), what="values")
        return "" if verdict.ok else f"{verdict.message}{at}"
    if isinstance(reference, (tuple, list)):
        if not isinstance(written, (tuple, list)) or len(written) != len(reference):
            return f"the reference gives {len(reference)} items{at}"
        for i, (r, w) in enumerate(zip(reference, written, strict=True)):
            problem = _disagreement(r, w, f"{where}[{i}]")
            if problem:
                return problem
        return ""
    if isinstance(reference, float) and isinstance(written, (int, float)) and not isinstance(written, bool):
        close = math.isclose(reference, written, rel_tol=1e-4, abs_tol=1e-4)
        return "" if close else f"the reference gives {reference!r}{at}"
    if isinstance(reference, torch.dtype):
        return "" if str(reference).removeprefix("torch.") == str(written).removeprefix("torch.") \
            else f"the reference gives {reference}{at}"
    if type(reference) is not type(written) or reference != written:
        return f"the reference gives {reference!r}{at}"
    return ""


MIN_QUOTE = 8
"""Characters (spaces left out) from which a piece of the reference's code counts as quoted."""


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def code_fragments(fn: object) -> list[str]:
    """The reference function's statements and its calls, operations and subscripts, as
    source text without spaces, longest first: what a first hint must not contain."""
    try:
        tree = ast.parse(inspect.cleandoc("\n" + inspect.getsource(fn)))  # type: ignore[arg-type]
    except (OSError, TypeError, SyntaxError):
        return []
    func = tree.body[0]
    if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    found = set()
    for stmt in func.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # the docstring
        for node in ast.walk(stmt):
            if isinstance(node, (ast.stmt, ast.Call, ast.BinOp, ast.Compare, ast.Subscript)) and \
                    not isinstance(node, (ast.Assert, ast.Pass)):
                text = _squash(ast.unparse(node)).removeprefix("return")
                if len(text) >= MIN_QUOTE:
                    found.add(text)
    return sorted(found, key=len, reverse=True)


def _hint_problems(course: CourseDir, ex_id: str) -> list[str]:
    """First hints that quote the reference solution's code."""
    from grader.grading import load_solution

    exercise = course.exercise(ex_id)
    solution = load_solution(course, ex_id)
    where = _Locator(course.exercise_file(ex_id))
    problems = []
    for i, task in enumerate(exercise.tasks):
        if task.kind != "function" or not task.hints:
            continue
        first = _squash(task.hints[0])
        quoted = next((c for c in code_fragments(getattr(solution, task.reference or task.name, None))
                       if c in first), None)
        if quoted:
            problems.append(f"{where(i, 'hints', 0)} the first hint of {task.name} quotes the reference solution "
                            f"({quoted}); start from the idea, then the approach, and keep code for a later hint")
    return problems


def check_exercise(course: CourseDir, ex_id: str, devices: tuple[str, ...] | None) -> ExerciseCheck:
    from grader.grading import GradeOptions, grade_source, reference_submission
    from grader.render import stub_for

    result = ExerciseCheck(ex_id)
    try:
        exercise = course.exercise(ex_id)
    except ConfigError as exc:
        result.problems.append(str(exc))
        result.broken = True
        return result
    where = _Locator(course.exercise_file(ex_id))
    for i, task in enumerate(exercise.tasks):
        if len(task.hints) < MIN_HINTS:
            result.problems.append(f"{where(i, 'hints')} {task.name} has {len(task.hints)} hint(s); "
                                   f"write at least {MIN_HINTS}")
    opts = GradeOptions(devices=devices)
    variant = GradeOptions(devices=devices, student=SAMPLE_STUDENT)
    has_variants = any(case.variant for task in exercise.tasks for case in task.cases)
    try:
        result.problems.extend(_expected_problems(course, ex_id))
        result.problems.extend(_hint_problems(course, ex_id))
        result.solution = grade_source(course, ex_id, reference_submission(course, ex_id, opts), f"{ex_id}.py", opts)
        result.stub = grade_source(course, ex_id, stub_for(course, ex_id), f"{ex_id}.py", opts)
        if has_variants:
            result.variant = grade_source(course, ex_id, reference_submission(course, ex_id, variant),
                                          f"{ex_id}.py", variant)
    except GraderError as exc:
        result.problems.append(str(exc))
        return result
    try:
        result.problems.extend(probe_problems(probe_findings(course, ex_id, devices), where))
    except GraderError as exc:
        result.problems.append(str(exc))
    solution_file = display_path(course.solution_file(ex_id))
    for t in result.solution.tasks:
        if t.status != "passed":
            first = t.feedback.splitlines()[0] if t.feedback else t.status
            result.problems.append(f"{solution_file}: {t.name} does not get full marks: {first}")
    for t in result.variant.tasks if result.variant else ():
        if t.status != "passed":
            first = t.feedback.splitlines()[0] if t.feedback else t.status
            result.problems.append(f"{solution_file}: {t.name} does not get full marks on the variant of student "
                                   f"'{SAMPLE_STUDENT}' (check the task's `variant:` arguments): {first}")
    if result.stub.score > 0:
        earned = ", ".join(t.name for t in result.stub.tasks if t.score > 0)
        result.problems.append(f"the unedited stub scores {result.stub.score:g} (tasks: {earned}); it must score 0")
    return result


def _stray_solutions(course: CourseDir) -> list[str]:
    """Reference solutions of exercises that course.yaml does not list (a renamed or removed exercise)."""
    listed = set(course.exercise_ids)
    folder = course.solution_file("x").parent
    return [f"{display_path(path)}: not listed in course.yaml; add '{path.stem}' to its exercises or remove "
            "the file" for path in sorted(folder.glob("*.py"))
            if path.stem not in listed and not path.stem.startswith("_")]


def run_check(course: CourseDir, devices: tuple[str, ...] | None, only: list[str] | None = None,
              fmt: str = "table") -> int:
    """Check the course (or the exercises in `only`) and print the table (or, with fmt="json",
    `check_json` on stdout); returns the exit code: 0 consistent, 1 problems found, 2 an exercise
    file that cannot be loaded (a configuration error, as elsewhere)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from grader.grading import available_devices

    console = Console(highlight=False, stderr=fmt != "table")  # JSON keeps stdout for itself
    layout = [str(p) for p in course.check_layout()] + _stray_solutions(course) if only is None else []
    checks = []
    with console.status("checking exercises...") as status:
        for ex_id in only or course.exercise_ids:
            status.update(f"checking {ex_id}...")
            checks.append(check_exercise(course, ex_id, devices))
    broken = [p for c in checks if c.broken for p in c.problems]
    # a file that cannot be loaded is reported once, in its row, not again for its notebook
    extra = [p for p in _notebook_problems(course, console, only) if not any(b in p for b in broken)]
    all_problems = layout + extra + [p for c in checks for p in c.problems]
    code = (2 if broken else 1) if all_problems else 0
    shown_devices = list(devices or available_devices())
    if fmt == "json":
        sys.stdout.write(check_json(course, shown_devices, checks, layout + extra, code))
        return code
    table = Table(title=f"grade check: {escape(course.course.title)} "
                        f"(devices: {', '.join(shown_devices)})", title_justify="left")
    for col in ("exercise", "solution", "stub", "problems"):
        table.add_column(col)
    for c in checks:
        sol = f"{c.solution.score:g}/{c.solution.max_score:g}" if c.solution else "-"
        stub = f"{c.stub.score:g}" if c.stub else "-"
        problems = "\n".join(c.problems) or "[green]ok[/]"
        table.add_row(c.ex_id, sol, stub, escape(problems) if c.problems else problems)
    console.print(table)
    for p in layout + extra:
        console.print(f"[red]✘[/] {escape(p)}")
    if all_problems:
        console.print(f"[red bold]{len(all_problems)} problem(s) found[/]")
        return code
    console.print(f"[green bold]✔ {', '.join(only) if only else 'course'} is consistent[/]")
    return 0


def check_json(course: CourseDir, devices: list[str], checks: list[ExerciseCheck], course_problems: list[str],
               code: int) -> str:
    """`grade check --format json` (version 1): per exercise, the reference's and the stub's
    scores and the problems found; problems of the course as a whole; the exit code."""
    def score(report: ExerciseReport | None) -> dict[str, float] | None:
        return None if report is None else {"score": report.score, "max_score": report.max_score}

    exercises = [{"exercise": c.ex_id, "loaded": not c.broken, "solution": score(c.solution), "stub": score(c.stub),
                  "variant": score(c.variant), "problems": c.problems} for c in checks]
    data = {"version": 1, "course": course.course.title, "devices": devices, "ok": code == 0, "exit_code": code,
            "problems": course_problems, "exercises": exercises,
            "problem_count": len(course_problems) + sum(len(c.problems) for c in checks)}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _notebook_problems(course: CourseDir, console: Any, only: list[str] | None) -> list[str]:
    """The nbgrader notebooks' problems; where the `[nbgrader]` extra is missing, a note instead."""
    from rich.markup import escape

    from grader.errors import UsageError, require_extra
    from grader.notebook_check import check_notebooks

    try:
        require_extra("checking the nbgrader notebooks", ("nbformat", "nbgrader"), "nbgrader")
    except UsageError as exc:
        console.print(f"[yellow]note:[/] {escape(str(exc))}; they were not checked")
        return []
    return check_notebooks(course, only)
