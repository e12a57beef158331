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
    """The CLI round trip: alice's stub holds alice's questions and says so; her answers score full
    marks as alice, and graded as bob (or without an id) they are refused with the reason, never
    marked wrong."""
    out = tmp_path / "stubs"
    proc = run_grade("render", "--student", "alice", "--out", str(out), env=PROCESS_MODE)
    assert proc.returncode == 0, proc.stderr
    stub = (out / "exercise13.py").read_text()
    assert "# Variant for student: alice" in stub
    assert "# Question 1: the shape of torch.zeros(3, 3).view(3, -1)" in stub
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    answers = reference_submission(COURSE, "exercise13", GradeOptions(student="alice"))
    target = workspace / "exercise13.py"
    target.write_text(answers)
    proc = run_grade("exercise13", "--student", "alice", "--workspace", str(workspace), "--format", "json",
                     env=PROCESS_MODE)
    assert proc.returncode == 0, proc.stderr
    proc = run_grade("exercise13", "--student", "bob", "--workspace", str(workspace), env=PROCESS_MODE)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (f"error: {target} holds the questions of alice's variant, not bob's: grade it with "
                           "`grade exercise13 --student alice`, or rename it and run `grade render --student bob` "
                           "for bob's questions\n")
    proc = run_grade("exercise13", "--workspace", str(workspace), env=PROCESS_MODE)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (f"error: {target} holds the questions of alice's variant (see its line '# Variant for "
                           "student: alice'): grade it with `grade exercise13 --student alice`\n")


def test_the_common_stub_graded_with_an_id_is_refused_and_render_names_what_it_kept(tmp_path: Any) -> None:
    workspace = tmp_path / "workspace"
    proc = run_grade("render", "--workspace", str(workspace), env=PROCESS_MODE)
    assert proc.returncode == 0, proc.stderr
    target = workspace / "exercise2.py"
    target.write_text(target.read_text().replace("q1 = ...", "q1 = (5, 6, 4, 3, 7, 2)"))
    proc = run_grade("exercise2", "--student", "alice", "--workspace", str(workspace), env=PROCESS_MODE)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (f"error: {target} holds the common questions, not alice's variant, so right answers "
                           "would be marked wrong: rename it (your answers stay in it) and run `grade render "
                           "--student alice` to get your own questions, or grade this file without --student\n")
    (workspace / "exercise13.py").unlink()
    proc = run_grade("render", "--student", "alice", "--workspace", str(workspace), env=PROCESS_MODE)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {workspace / 'exercise13.py'}\n" in proc.stdout
    kept = proc.stdout.split(f"kept {len(COURSE.exercise_ids) - 1} existing file(s) in {workspace}:\n")[1]
    assert "  exercise2.py (the common questions, not alice's questions: rename it and render again)\n" in kept
    assert "  exercise3.py\n" in kept  # no drawn questions: nothing to say
    assert "Variant for student: alice" in (workspace / "exercise13.py").read_text()


def test_broadcasting_answers_are_dealt_evenly() -> None:
    """Exercise 2's drawn questions: each student gets at most 2 answers of one kind (error, one of
    the inputs, a new shape) in 5, never two identical input shapes, no size beyond the bounds."""
    from grader.schema import ShapesValue
    from grader.values import answer_kind

    exercise = COURSE.exercise("exercise2")
    specs = {t.name: v.shapes for t in exercise.tasks for v in t.cases[0].variant.values()
             if isinstance(v, ShapesValue)}
    totals = {"error": 0, "input": 0, "new": 0}
    for i in range(150):
        own = dict.fromkeys(totals, 0)
        for p in plan(COURSE, "exercise2", exercise, GradeOptions(devices=("cpu",), student=f"s{i}")):
            spec = specs.get(p.task.name)
            if spec is None:
                continue
            shapes = p.cases[0]["shapes"]
            assert len({tuple(s) for s in shapes}) == len(shapes), shapes
            assert all(spec.ndim[0] <= len(s) <= spec.ndim[1] and max(s) <= spec.max_size for s in shapes), shapes
            own[answer_kind(shapes)] += 1
        assert max(own.values()) <= 2, own
        for k, n in own.items():
            totals[k] += n
    assert all(0.28 <= n / 750 <= 0.39 for n in totals.values()), totals
    assert "wrong" not in exercise.tasks[4].doc  # q5 does not give its answer away
