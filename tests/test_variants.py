"""Per-student variants (`--student ID`): the same id always gets the same variant, different
ids get different ones, and copying a neighbour's quiz answers earns little.

The figures over 1,000 ids come from benchmarks/variants.py; these tests use fewer ids.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import torch
from conftest import ROOT, run_grade

from grader.course import CourseDir
from grader.grading import GradeOptions, grade_source, plan, reference_submission
from grader.values import NUMPY, is_numpy_marker

PROCESS_MODE = {"GRADER_ISOLATION": "process"}  # the same reports, without starting the sandbox

COURSE = CourseDir.open(ROOT)
VARIANT_EXERCISES = [ex for ex in COURSE.exercise_ids
                     if any(c.variant for t in COURSE.exercise(ex).tasks for c in t.cases)]
QUIZZES = ["exercise2", "exercise13"]


def visible(value: Any) -> Any:
    """What a student sees of an argument: shapes, dtypes, constants; not the random numbers."""
    if isinstance(value, torch.Tensor):
        return ("tensor", tuple(value.shape), str(value.dtype))
    if is_numpy_marker(value):
        return ("numpy", visible(value[NUMPY]))
    if isinstance(value, (list, tuple)):
        return tuple(visible(v) for v in value)
    return repr(value)


def variant(ex_id: str, student: str, *, values: bool = False) -> list[Any]:
    """The concrete arguments of every `variant:` case of an exercise for one student."""
    out: list[Any] = []
    exercise = COURSE.exercise(ex_id)
    for p in plan(COURSE, ex_id, exercise, GradeOptions(devices=("cpu",), student=student)):
        for case, args in zip(p.task.cases, p.cases, strict=True):
            if not case.variant:
                continue
            for name, value in sorted(args.items()):
                out.append((p.task.name, name, visible(value)))
                if values and isinstance(value, torch.Tensor):
                    out.append(hashlib.sha256(value.detach().numpy().tobytes()).hexdigest())
    return out


def test_every_exercise_but_the_fixed_ones_has_variants() -> None:
    assert set(VARIANT_EXERCISES) >= {f"exercise{i}" for i in (2, *range(5, 14))}


def test_the_same_id_gets_the_same_variant_on_every_machine() -> None:
    # seeds come from sha256 of exercise/task/case/student, never from hash() or the clock:
    # these values are the same on every machine and in every process
    quiz = plan(COURSE, "exercise13", COURSE.exercise("exercise13"), GradeOptions(devices=("cpu",), student="alice"))
    assert quiz[0].cases[0] == {"expr": "torch.zeros(3, 3).view(3, -1)"}
    assert quiz[10].cases[0] == {"expr": "torch.ones(3, dtype=torch.int64) + torch.ones(3, dtype=torch.uint8)"}
    images = plan(COURSE, "exercise5", COURSE.exercise("exercise5"), GradeOptions(devices=("cpu",), student="alice"))
    assert tuple(images[1].cases[1]["images"].shape) == (3, 2, 3, 3)
    for ex_id in VARIANT_EXERCISES:
        assert variant(ex_id, "alice", values=True) == variant(ex_id, "alice", values=True)


@pytest.mark.parametrize("ex_id", VARIANT_EXERCISES)
def test_different_ids_get_different_variants(ex_id: str) -> None:
    students = [f"student{i:03d}" for i in range(100)]
    distinct = {json.dumps(variant(ex_id, s), default=str) for s in students}
    assert len(distinct) >= 95, f"{ex_id}: only {len(distinct)} distinct variants for 100 students"


def test_without_an_id_everybody_gets_the_default_cases() -> None:
    assert variant("exercise13", "") != variant("exercise13", "alice")
    default = plan(COURSE, "exercise13", COURSE.exercise("exercise13"), GradeOptions(devices=("cpu",)))
    assert default[0].cases[0] == {"expr": "torch.arange(12).view(3, -1)"}


@pytest.mark.parametrize("ex_id", QUIZZES)
def test_a_neighbours_quiz_answers_score_low(ex_id: str) -> None:
    exercise = COURSE.exercise(ex_id)
    fixed = sum(t.points for t in exercise.tasks if not t.cases[0].variant)
    students = ["ana", "ben", "chloe", "dev", "emil"]
    shares = []
    for own, neighbour in zip(students[1:], students[:-1], strict=True):
        opts = GradeOptions(devices=("cpu",), student=own)
        copied = reference_submission(COURSE, ex_id, GradeOptions(devices=("cpu",), student=neighbour))
        report = grade_source(COURSE, ex_id, copied, f"{ex_id}.py", opts)
        shares.append((report.score - fixed) / (report.max_score - fixed))
        assert report.score < report.max_score
        failed = [t for t in report.tasks if t.status != "passed"]
        assert all(t.feedback.startswith("[answer]") for t in failed)
    assert max(shares) <= 0.5 and sum(shares) / len(shares) <= 0.35, shares
    right = grade_source(COURSE, ex_id, reference_submission(COURSE, ex_id, GradeOptions(student="ben")),
                         f"{ex_id}.py", GradeOptions(devices=("cpu",), student="ben"))
    assert right.score == right.max_score


def test_render_and_grade_with_a_student_id(tmp_path: Any) -> None:
    """The CLI round trip: alice's stub holds alice's questions; alice's answers graded as bob lose points."""
    out = tmp_path / "stubs"
    proc = run_grade("render", "--student", "alice", "--out", str(out), env=PROCESS_MODE)
    assert proc.returncode == 0, proc.stderr
    stub = (out / "exercise13.py").read_text()
    assert "# Variant for student: alice" in stub
    assert "# Question 1: the shape of torch.zeros(3, 3).view(3, -1)" in stub
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    answers = reference_submission(COURSE, "exercise13", GradeOptions(student="alice"))
    (workspace / "exercise13.py").write_text(answers)
    proc = run_grade("exercise13", "--student", "bob", "--workspace", str(workspace), "--format", "json",
                     env=PROCESS_MODE)
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and report["score"] <= 4, report["score"]
