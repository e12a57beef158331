"""How different are the per-student variants? Prints figures; asserts nothing.

For every exercise with `variant:` cases, over N student ids (default 1,000):

- inputs:    share of distinct variants, counting every drawn value (tensor
             values included);
- visible:   share of distinct variants as a student sees them: shapes, dtypes
             and constants, without the random numbers inside tensors (for a
             quiz: the questions);
- answers:   for exercises with quiz (answer) tasks, the share of distinct
             answer keys, computed live by the reference solution;
- neighbour: the mean share of points a student gets by handing in the answers
             of the previous student in the list: of the whole exercise, and
             (in brackets) of its variant questions alone.

Then, for every exercise with drawn broadcasting shapes (`shapes:` variants), the
share of each kind of answer ("error", the shape of one of the inputs, a new shape),
the share of students with more than two answers of one kind, and the draws with two
identical input shapes or a size beyond the declared bounds (both should be 0).

    python benchmarks/variants.py [--students 1000] [--course PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.compare import compare_answer, compare_value_answer  # noqa: E402
from grader.course import CourseDir  # noqa: E402
from grader.grading import GradeOptions, load_solution, plan, references  # noqa: E402
from grader.schema import ShapesValue  # noqa: E402
from grader.values import ANSWER_KINDS, NUMPY, answer_kind, is_numpy_marker  # noqa: E402


def signature(value: Any, *, values: bool) -> Any:
    """A hashable description of one argument; with values=False only what a student sees of it."""
    if isinstance(value, torch.Tensor):
        head = ("tensor", tuple(value.shape), str(value.dtype))
        return head + ((hashlib.sha256(value.detach().numpy().tobytes()).hexdigest(),) if values else ())
    if is_numpy_marker(value):
        return ("numpy", signature(value[NUMPY], values=values))
    if isinstance(value, (list, tuple)):
        return tuple(signature(v, values=values) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, signature(v, values=values)) for k, v in value.items()))
    return repr(value)


def variant_cases(course: CourseDir, ex_id: str, student: str) -> list[tuple[str, int, dict[str, Any]]]:
    exercise = course.exercise(ex_id)
    out = []
    for p in plan(course, ex_id, exercise, GradeOptions(devices=("cpu",), student=student)):
        for i, (case, args) in enumerate(zip(p.task.cases, p.cases, strict=True)):
            if case.variant:
                out.append((p.task.name, i, args))
    return out


def answer_key(course: CourseDir, ex_id: str, student: str, solution: Any) -> dict[str, Any]:
    exercise = course.exercise(ex_id)
    return {p.task.name: references(solution, p, ex_id)[0].expected
            for p in plan(course, ex_id, exercise, GradeOptions(devices=("cpu",), student=student))
            if p.task.kind == "answer" and p.task.cases[0].variant}


def as_submitted(value: Any) -> dict[str, Any]:
    """A reference answer encoded as the child would send the student's variable."""
    if isinstance(value, (tuple, list)):
        return {"kind": "seq", "type": "tuple", "items": [as_submitted(v) for v in value]}
    return {"kind": "py", "value": value}


def neighbour_score(course: CourseDir, ex_id: str, keys: list[dict[str, Any]]) -> tuple[float, float]:
    """Mean share of the points earned by handing in the previous student's answers: of the
    whole exercise, and of its variant questions alone."""
    exercise = course.exercise(ex_id)
    total = sum(t.points for t in exercise.tasks)
    varied = [t for t in exercise.tasks if t.name in keys[0]]
    fixed = total - sum(t.points for t in varied)  # questions without a variant: the same for everybody
    shares = []
    for own, theirs in zip(keys[1:], keys[:-1], strict=True):
        points = 0.0
        for task in varied:
            judge = compare_value_answer if task.answer_form == "value" else compare_answer
            if judge(own[task.name], as_submitted(theirs[task.name])).ok:
                points += task.points
        shares.append(points)
    mean = sum(shares) / len(shares)
    return (fixed + mean) / total, mean / (total - fixed)


def broadcast_kinds(course: CourseDir, ex_id: str, students: list[str]) -> str | None:
    """One line of shares of answer kinds over the drawn broadcasting questions, or None."""
    exercise = course.exercise(ex_id)
    specs = {(t.name, i): v.shapes for t in exercise.tasks for i, c in enumerate(t.cases)
             for v in c.variant.values() if isinstance(v, ShapesValue)}
    if not specs:
        return None
    kinds = dict.fromkeys(ANSWER_KINDS, 0)
    lopsided = identical = out_of_bounds = 0
    for s in students:
        own = dict.fromkeys(ANSWER_KINDS, 0)
        for task, i, args in variant_cases(course, ex_id, s):
            spec = specs.get((task, i))
            if spec is None:
                continue
            shapes = next(v for v in args.values() if isinstance(v, list))
            own[answer_kind(shapes)] += 1
            identical += len({tuple(x) for x in shapes}) < len(shapes)
            out_of_bounds += any(not spec.ndim[0] <= len(x) <= spec.ndim[1] or max(x) > spec.max_size
                                 for x in shapes)
        lopsided += max(own.values()) > 2
        for k, n in own.items():
            kinds[k] += n
    total = sum(kinds.values())
    shares = "  ".join(f"{k} {n / total:.1%}" for k, n in kinds.items())
    return (f"{ex_id:<11} {shares}  students with >2 of one kind {lopsided / len(students):.1%}  "
            f"identical inputs {identical}  out of bounds {out_of_bounds}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--course", type=Path, default=ROOT)
    args = parser.parse_args()
    course = CourseDir.open(args.course)
    students = [f"student{i:04d}" for i in range(args.students)]
    print(f"{args.students} student ids; share of distinct variants per exercise")
    print(f"{'exercise':<11} {'variant cases':>13} {'inputs':>8} {'visible':>8} {'answers':>8} "
          f"{'neighbour':>16}  seconds")
    for ex_id in course.exercise_ids:
        exercise = course.exercise(ex_id)
        n_cases = sum(1 for t in exercise.tasks for c in t.cases if c.variant)
        if not n_cases:
            continue
        started = time.perf_counter()
        full, visible = set(), set()
        for s in students:
            cases = variant_cases(course, ex_id, s)
            full.add(tuple((t, i, signature(a, values=True)) for t, i, a in cases))
            visible.add(tuple((t, i, signature(a, values=False)) for t, i, a in cases))
        answers = neighbour = "-"
        if any(t.kind == "answer" and t.cases[0].variant for t in exercise.tasks):
            solution = load_solution(course, ex_id)
            keys = [answer_key(course, ex_id, s, solution) for s in students]
            answers = f"{len({repr(sorted(k.items())) for k in keys}) / len(students):.1%}"
            whole, varied = neighbour_score(course, ex_id, keys)
            neighbour = f"{whole:.1%} ({varied:.1%})"
        seconds = time.perf_counter() - started
        print(f"{ex_id:<11} {n_cases:>13} {len(full) / len(students):>8.1%} {len(visible) / len(students):>8.1%} "
              f"{answers:>8} {neighbour:>16}  {seconds:.1f}")
    print("\nbroadcasting questions: share of each kind of answer (error / one of the inputs / a new shape)")
    for ex_id in course.exercise_ids:
        line = broadcast_kinds(course, ex_id, students)
        if line:
            print(line)


if __name__ == "__main__":
    main()
