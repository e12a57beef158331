"""Task options and value kinds that exercises 5-13 need, checked in-process.

The golden scenarios show them end to end (exercise 8: `modifies`, 10 and 11:
`check_grad_flags`, 12: `result_device`, 9: NumPy inputs, 13: `format` values and
`answer_form: value`); these tests pin the edge cases and the error messages.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.boundary.child import _prepare, encode
from grader.compare import (
    CaseRef,
    TaskSpec,
    Tolerance,
    compare_grad_flags,
    compare_value_answer,
    grad_flags,
    judge_case,
)
from grader.errors import ConfigError
from grader.loader import load_model
from grader.schema import Case, Exercise
from grader.values import build, case_args, describe, numpy_of

TASK = """\
format_version: 1
title: t
text: t
tasks:
  - name: f
    signature: "(x: torch.Tensor) -> torch.Tensor"
    doc: d
{extra}
    cases:
      - args: {args}
"""


def load(tmp_path: Path, extra: str = "", args: str = "{x: {tensor: [1.0]}}") -> Exercise:
    path = tmp_path / "e.yaml"
    path.write_text(TASK.format(extra=extra, args=args))
    return load_model(path, Exercise)


@pytest.mark.parametrize(("extra", "args", "message"), [
    ("    modifies: [out]", "{x: {tensor: [1.0]}}", "modifies names 'out', which is not a parameter of f"),
    ("", "{x: {random: randn, shape: [{choice: [2, two]}]}}", "sizes must be whole numbers >= 0"),
    ("", "{x: {format: 'torch.zeros({a}, {b})', with: {a: 2}}}", "format uses {b} but 'with' does not say"),
    ("", "{x: {format: 'torch.zeros({a})', with: {a: 2, c: 3}}}", "with: 'c' is not used in the format string"),
    ("", "{x: {numpy: [1, 2], dtype: bfloat16}}", "must be one of"),
    ("    result_device: gpu", "{x: {tensor: [1.0]}}", "must be one of"),
    ("    answer_form: tuple", "{x: {tensor: [1.0]}}", "must be one of"),
])
def test_bad_options_are_located_errors(tmp_path: Path, extra: str, args: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, extra, args)
    assert message in str(info.value)
    assert str(info.value).startswith(f"{tmp_path / 'e.yaml'}:")


def test_value_kinds_build_concrete_arguments() -> None:
    case = Case.model_validate({
        "args": {"n": {"numpy": [[1, 2], [3, 4]]}, "r": {"numpy": {"random": "randn", "shape": [3], "dtype": "float64"}},
                 "e": {"format": "torch.{f}({a})", "with": {"f": {"choice": ["zeros", "ones"]}, "a": {"randint": [2, 2]}}},
                 "t": {"random": "rand", "shape": [{"randint": [4, 4]}, {"choice": [7]}]}},
    })
    args = case_args(case, seed=1, student=None)
    array = numpy_of(args["n"])
    assert isinstance(array, np.ndarray) and array.dtype == np.int64 and array.tolist() == [[1, 2], [3, 4]]
    assert numpy_of(args["r"]).dtype == np.float64 and numpy_of(args["r"]).shape == (3,)
    assert args["e"] in ("torch.zeros(2)", "torch.ones(2)")
    assert args["t"].shape == (4, 7)
    assert describe(args["n"]) == "NumPy array of shape (2, 2), int64"
    # the child turns the marker into a fresh array for every call, whatever device is checked
    first, second = _prepare(args["n"], "meta", False), _prepare(args["n"], "cpu", False)
    first[0, 0] = 100
    assert isinstance(second, np.ndarray) and second[0, 0] == 1 and numpy_of(args["n"])[0, 0] == 1


def test_format_values_differ_by_seed_and_keep_literal_braces() -> None:
    spec = Case.model_validate({"args": {"e": {"format": "{{x}} {a}", "with": {"a": {"randint": [0, 10**9]}}}}}).args["e"]
    drawn = {build(spec, random.Random(seed), torch.Generator()) for seed in range(50)}
    assert len(drawn) == 50 and all(d.startswith("{x} ") for d in drawn)


def spec(**options: object) -> TaskSpec:
    base: dict[str, object] = dict(name="f", kind="function", points=1, devices=["cpu"], values_on=["cpu"],
                                   tol=Tolerance(), rules={}, check_inputs=True, check_repeat=False, grads_to=[])
    return TaskSpec(**{**base, **options})  # type: ignore[arg-type]


def record(output: object, **inputs_after: object) -> dict[str, object]:
    return {"status": "ok", "output": encode(output), "inputs_after": {k: encode(v) for k, v in inputs_after.items()}}


def test_modifies_compares_the_argument_with_what_the_reference_left() -> None:
    out_before, product = torch.zeros(2), torch.tensor([3.0, 4.0])
    ref = CaseRef(args={"out": out_before}, expected=product, label="out=...", after={"out": product})
    task = spec(modifies=("out",))
    assert judge_case(task, ref, record(product, out=product), "cpu").ok
    verdict = judge_case(task, ref, record(product, out=out_before), "cpu")
    assert verdict.rule == "changes in place" and "must change `out` in place" in verdict.message
    # without `modifies`, the same call is a changed input
    assert judge_case(spec(), CaseRef(args={"out": out_before}, expected=product, label=""),
                      record(product, out=product), "cpu").rule == "inputs unchanged"


def test_result_device_overrides_the_device_checked() -> None:
    ref = CaseRef(args={}, expected=torch.ones(2), label="")
    on_cpu = record(torch.ones(2))
    assert not judge_case(spec(), ref, on_cpu, "cuda").ok  # the device checked is expected by default
    assert judge_case(spec(result_device="cpu"), ref, on_cpu, "cuda").ok
    meta = {"status": "ok", "output": encode(torch.ones(2, device="meta")), "inputs_after": {}}
    assert judge_case(spec(result_device="cpu"), ref, meta, "cuda").rule == "device"


def test_grad_flags_of_nested_results() -> None:
    leaf = torch.ones(2, requires_grad=True)
    expected = grad_flags((leaf, leaf * 2, torch.ones(1)))
    assert expected == [{"requires_grad": True, "is_leaf": True}, {"requires_grad": True, "is_leaf": False},
                        {"requires_grad": False, "is_leaf": True}]
    assert compare_grad_flags(expected, encode((leaf, leaf * 2, torch.ones(1)))).ok
    not_a_leaf = compare_grad_flags(expected, encode((leaf * 1, leaf * 2, torch.ones(1))))
    assert not not_a_leaf.ok and not_a_leaf.message.startswith("result[0]: expected is_leaf=True, got False")
    frozen = compare_grad_flags(expected, encode((leaf, (leaf * 2).detach(), torch.ones(1))))
    assert frozen.message.startswith("result[1]: expected requires_grad=True, got False")


@pytest.mark.parametrize(("expected", "answer", "ok"), [
    ("float32", torch.float32, True),
    ("float32", "torch.float32", True),
    ("float32", " 'Float32' ", True),
    ("error", "Error", True),
    ("float32", "float64", False),
    ((2, 3), [2, 3], True),
    (True, True, True),
    (True, 1, False),
    (2.5, 2.5000000001, True),
])
def test_value_answers(expected: object, answer: object, ok: bool) -> None:
    verdict = compare_value_answer(expected, encode(answer), "think of the promotion rules")
    assert verdict.ok == ok
    if not ok:
        assert verdict.message.endswith("is not right; think of the promotion rules")


def test_value_answers_not_given_or_unreadable() -> None:
    assert compare_value_answer("int64", encode(...)).rule == "not implemented"
    unreadable = compare_value_answer("int64", encode(torch.zeros(1)))
    assert unreadable.rule == "answer" and "expected a plain value" in unreadable.message


# ---------------------------------------------------------------- what runs on meta

META_COURSE = "format_version: 1\ntitle: t\nexercises: [exercise1]\n"
META_TASK = """\
format_version: 1
title: t
text: t
tasks:
  - name: f
    signature: "(x: torch.Tensor) -> torch.Tensor"
    doc: d
    hints: [a, b]
{extra}
    cases:
      - args: {{x: {{tensor: [1.0]}}}}
      - args: {{x: {{tensor: [1.0, 2.0]}}}}
      - args: {{x: {{tensor: [1.0, 2.0, 3.0]}}}}
"""
# correct on cpu; on meta it breaks from the third case on, and it counts its calls per device
META_SUBMISSION = """\
import torch
CALLS = {}

def f(x):
    CALLS[x.device.type] = CALLS.get(x.device.type, 0) + 1
    print(x.device.type, CALLS[x.device.type])
    if x.device.type == "meta" and x.numel() >= 3:
        return torch.zeros(x.shape)  # a CPU tensor: not device-agnostic
    return x * 2
"""


def _meta_course(tmp_path: Path, extra: str = "") -> object:
    from grader.course import CourseDir

    (tmp_path / "course.yaml").write_text(META_COURSE)
    (tmp_path / "exercises").mkdir()
    (tmp_path / "solutions").mkdir()
    (tmp_path / "exercises" / "exercise1.yaml").write_text(META_TASK.format(extra=extra))
    (tmp_path / "solutions" / "exercise1.py").write_text("def f(x):\n    return x * 2\n")
    return CourseDir.open(tmp_path)


@pytest.mark.parametrize(("extra", "status", "meta_calls"), [
    ("", "passed", 2),                     # by default the first two cases run on meta
    ("    meta_cases: 3", "failed", 3),    # all three: the third shows the device bug
])
def test_meta_runs_the_first_cases_and_repeats_only_where_values_count(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str, status: str, meta_calls: int) -> None:
    from grader.grading import GradeOptions, grade_source

    monkeypatch.setenv("GRADER_ISOLATION", "process")
    course = _meta_course(tmp_path, extra)
    report = grade_source(course, "exercise1", META_SUBMISSION, "exercise1.py",  # type: ignore[arg-type]
                          GradeOptions(devices=("cpu", "meta")))
    task = report.tasks[0]
    assert task.status == status, task.feedback
    if status == "failed":
        assert task.devices == {"cpu": "passed", "meta": "failed"}
        assert "on meta, case 3" in task.feedback
    lines = report.output.split()
    # cpu: 3 cases, each called twice (the repeat check); meta: no repeat, its values are not compared
    assert lines[-2:] == ["meta", str(meta_calls)] and "cpu 6" in report.output and "meta 4" not in report.output


def test_meta_cases_must_be_at_least_one(tmp_path: Path) -> None:
    path = tmp_path / "e.yaml"
    path.write_text(META_TASK.format(extra="    meta_cases: 0"))
    with pytest.raises(ConfigError) as info:
        load_model(path, Exercise)
    assert "meta_cases" in str(info.value) and str(info.value).startswith(f"{path}:")
