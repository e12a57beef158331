"""`grade check`: the instructor's proof that the course is consistent.

Every YAML valid and listed; every reference solution full marks on every
device through the same isolated runner students get; every unedited stub 0;
every visible case's written `expected` equal to the reference; hints present.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from grader.compare import Tolerance, compare_values
from grader.course import CourseDir
from grader.errors import ConfigError, GraderError
from grader.loader import display_path
from grader.results import ExerciseReport

MIN_HINTS = 2


@dataclass
class ExerciseCheck:
    ex_id: str
    problems: list[str] = field(default_factory=list)
    solution: ExerciseReport | None = None
    stub: ExerciseReport | None = None


def _expected_problems(course: CourseDir, ex_id: str) -> list[str]:
    """Visible cases whose written `expected` disagrees with the reference solution."""
    from grader.grading import GradeOptions, load_solution, plan, references

    exercise = course.exercise(ex_id)
    solution = load_solution(course, ex_id)
    problems = []
    for p in plan(course, ex_id, exercise, GradeOptions(devices=("cpu",))):
        if p.task.kind != "function" or all(c.expected is None for c in p.task.cases):
            continue
        for i, (case, ref) in enumerate(zip(p.task.cases, references(solution, p, ex_id), strict=True)):
            if case.expected is None:
                continue
            problem = _disagreement(ref.expected, case.expected)
            if problem:
                problems.append(f"{p.task.name} case {i + 1}: the written expected value {case.expected!r} "
                                f"disagrees with the reference solution ({problem})")
    return problems


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


def check_exercise(course: CourseDir, ex_id: str, devices: tuple[str, ...] | None) -> ExerciseCheck:
    from grader.grading import GradeOptions, grade_source, reference_submission
    from grader.render import stub_for

    result = ExerciseCheck(ex_id)
    try:
        exercise = course.exercise(ex_id)
    except ConfigError as exc:
        result.problems.append(str(exc))
        return result
    for task in exercise.tasks:
        if len(task.hints) < MIN_HINTS:
            result.problems.append(f"{display_path(course.exercise_file(ex_id))}: tasks.{task.name}.hints: "
                                   f"has {len(task.hints)} hint(s); write at least {MIN_HINTS}")
    opts = GradeOptions(devices=devices)
    try:
        result.problems.extend(_expected_problems(course, ex_id))
        result.solution = grade_source(course, ex_id, reference_submission(course, ex_id, opts), f"{ex_id}.py", opts)
        result.stub = grade_source(course, ex_id, stub_for(course, ex_id), f"{ex_id}.py", opts)
    except GraderError as exc:
        result.problems.append(str(exc))
        return result
    for t in result.solution.tasks:
        if t.status != "passed":
            first = t.feedback.splitlines()[0] if t.feedback else t.status
            result.problems.append(f"solutions/{ex_id}.py: {t.name} does not get full marks: {first}")
    if result.stub.score > 0:
        earned = ", ".join(t.name for t in result.stub.tasks if t.score > 0)
        result.problems.append(f"the unedited stub scores {result.stub.score:g} (tasks: {earned}); it must score 0")
    return result


def run_check(course: CourseDir, devices: tuple[str, ...] | None) -> bool:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from grader.grading import available_devices

    console = Console(highlight=False, stderr=False)
    layout = [str(p) for p in course.check_layout()]
    checks = []
    with console.status("checking exercises...") as status:
        for ex_id in course.exercise_ids:
            status.update(f"checking {ex_id}...")
            checks.append(check_exercise(course, ex_id, devices))
    extra = _notebook_problems(course)
    table = Table(title=f"grade check: {escape(course.course.title)} "
                        f"(devices: {', '.join(devices or available_devices())})", title_justify="left")
    for col in ("exercise", "solution", "stub", "problems"):
        table.add_column(col)
    for c in checks:
        sol = f"{c.solution.score:g}/{c.solution.max_score:g}" if c.solution else "-"
        stub = f"{c.stub.score:g}" if c.stub else "-"
        problems = "\n".join(c.problems) or "[green]ok[/]"
        table.add_row(c.ex_id, sol, stub, escape(problems) if c.problems else problems)
    console.print(table)
    all_problems = layout + extra + [p for c in checks for p in c.problems]
    for p in layout + extra:
        console.print(f"[red]✘[/] {escape(p)}")
    if all_problems:
        console.print(f"[red bold]{len(all_problems)} problem(s) found[/]")
        return False
    console.print("[green bold]✔ course is consistent[/]")
    return True


def _notebook_problems(course: CourseDir) -> list[str]:
    try:
        from grader.notebook import check_notebooks
    except ImportError:
        return []
    return check_notebooks(course)
