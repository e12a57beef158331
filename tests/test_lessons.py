"""Each lesson of the course is what scores: a table of wrong answers that must fail, each with
the rule that catches it. The submissions live in tests/wrong_answers/<student>/<exercise>.py
(several wrong answers to different tasks share a file: every task is graded on its own) and are
graded by one `grade batch`, as a class would be."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_grade

WRONG = Path(__file__).resolve().parent / "wrong_answers"

# (student, exercise, task, the rule that must fail it, words of the feedback)
TABLE = [
    ("a", "exercise1", "evenly_spaced", "created on", "created on cpu, not on meta"),
    ("a", "exercise1", "counting_block", "created on", "created on cpu, not on meta"),
    ("a", "exercise1", "from_rows", "created on", "created on cpu, not on meta"),
    ("a", "exercise1", "seeded_normal", "created on", "created on cpu, not on meta"),
    ("a", "exercise1", "ones_shaped_like", "created on", "created on cpu, not on meta"),
    ("a", "exercise1", "constant_blocks", "dtype", "hidden case 4: your result (a tuple) does not have the expected dtype"),
    ("a", "exercise6", "zero_negatives", "required call", "assign through a boolean mask"),
    ("b", "exercise6", "zero_negatives", "required call", "assign through a boolean mask"),
    ("a", "exercise8", "product_into", "changes in place", "this function must change `out` in place"),
    ("a", "exercise8", "all_pairs", "torch operations", "more than the 20 allowed"),
    ("b", "exercise8", "all_pairs", "torch operations", "more than the 20 allowed"),
    ("a", "exercise9", "shared_then_scaled", "shares memory", "does not share memory with `arr`"),
    ("b", "exercise9", "shared_then_scaled", "shares memory", "does not share memory with `arr`"),
    ("a", "exercise9", "copied_then_scaled", "shares memory", "the result shares memory with `arr`"),
    ("b", "exercise9", "copied_then_scaled", "changes in place", "this function must change `arr` in place"),
    ("a", "exercise9", "as_python_number", "type", "expected a Python int, got float 7.0"),
    ("b", "exercise9", "as_python_number", "type", "expected a Python int, got list"),
    ("a", "exercise9", "scaled_through_numpy", "torch operations", "1 torch operation that writes into a tensor"),
    ("b", "exercise9", "scaled_through_numpy", "changes in place", "this function must change `t` in place"),
    ("a", "exercise10", "leaf_and_result", "inputs unchanged", "changed `t.requires_grad` of the caller's tensor"),
    ("a", "exercise12", "seeded_weights_on", "created on", "created on meta, not on cpu"),
    ("a", "exercise12", "to_host", "required call", "move it with t.cpu() or t.to('cpu')"),
    ("a", "exercise12", "pick_device", "values", "as if the machine had cuda): result: expected 'cuda', got 'cpu'"),
    ("b", "exercise12", "pick_device", "values", "as if the machine had mps): result: expected 'mps', got 'cpu'"),
]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str], dict[str, object]]:
    out = tmp_path_factory.mktemp("lessons")
    proc = run_grade("batch", str(WRONG), "--out", str(out), "--devices", "cpu,meta", "-j", "2",
                     env={"GRADER_ISOLATION": "process"}, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tasks = {}
    for student in ("a", "b"):
        report = json.loads((out / f"{student}.json").read_text(encoding="utf-8"))
        for exercise in report["exercises"]:
            for task in exercise["tasks"]:
                tasks[(student, exercise["exercise"], task["name"])] = task
    return tasks


@pytest.mark.parametrize(("student", "ex_id", "task", "rule", "words"), TABLE,
                         ids=[f"{s}-{e}-{t}" for s, e, t, _, _ in TABLE])
def test_a_wrong_answer_to_a_lesson_fails(graded: dict[tuple[str, str, str], dict[str, object]], student: str,
                                          ex_id: str, task: str, rule: str, words: str) -> None:
    result = graded[(student, ex_id, task)]
    feedback = str(result["feedback"])
    assert result["status"] == "failed" and result["score"] == 0, feedback
    assert feedback.startswith(f"[{rule}]") and words in feedback, feedback


def test_every_wrong_answer_file_is_in_the_table() -> None:
    """A wrong answer added to the folder without a row would test nothing."""
    rows = {(s, e) for s, e, _, _, _ in TABLE}
    files = {(p.parent.name, p.stem) for p in WRONG.glob("*/*.py")}
    assert files == rows


def test_the_dense_net_of_the_text_is_checked_end_to_end() -> None:
    """init_params()'s written values are the arguments of dense_forward's first case, whose written
    result is the text's [[7.41288042, 6.01035929]]: full marks on both tasks means a student's
    dense_forward(x, *init_params()) reproduces the text (`grade check` verifies both `expected`s)."""
    from grader.course import CourseDir

    exercise = CourseDir.open(WRONG.parents[1]).exercise("exercise4")
    init_params, dense_forward = exercise.tasks
    params = init_params.cases[0]
    assert params.args == {} and params.expected is not None
    first = dense_forward.cases[0]
    written = [first.args[name].tensor for name in ("w1", "b1", "w2", "b2")]  # type: ignore[union-attr]
    assert written == params.expected
    assert first.args["x"].tensor == [[1.0, 2.0, 3.0]]  # type: ignore[union-attr]
    assert first.expected == [[7.41288042, 6.01035929]]
