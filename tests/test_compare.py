"""Unit tests of the verdicts (grader/compare.py) where the logic is subtle: tolerances,
NaN, the first differing index, 0-dim tensors, nested results, plain tensors, quiz answers.

Values are encoded exactly as the child encodes them (grader.boundary.child.encode), so these tests
see the same records the parent judges after a real run.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader import compare
from grader.boundary.child import encode
from grader.compare import CaseRef, TaskSpec, Tolerance, compare_answer, compare_value, judge_task, normalize_answer


def verdict(expected: Any, got: Any, *, device: str = "cpu", tol: Tolerance = Tolerance(),
            check_values: bool = True) -> compare.Verdict:
    record = got if isinstance(got, dict) else encode(got)
    return compare_value(expected, record, device=device, check_values=check_values, tol=tol)


# ---------------------------------------------------------------- tolerances

@pytest.mark.parametrize(("dtype", "close", "far"), [
    (torch.float32, 1e-6, 1e-4),        # rtol 1.3e-6 + atol 1e-5
    (torch.float64, 5e-8, 1e-6),        # 1e-6 passes in float32 but not in float64
    (torch.float16, 9.765625e-4, 4e-3),  # one float16 step above 1.0 is within tolerance
    (torch.bfloat16, 7.8125e-3, 0.0625),
])
def test_default_tolerance_depends_on_dtype(dtype: torch.dtype, close: float, far: float) -> None:
    expected = torch.ones(3, dtype=dtype)
    assert verdict(expected, torch.tensor([1.0, 1.0 + close, 1.0], dtype=dtype)).ok
    bad = verdict(expected, torch.tensor([1.0, 1.0 + far, 1.0], dtype=dtype))
    assert not bad.ok and bad.rule == compare.VALUES
    assert "1 of 3 values differ" in bad.message


def test_integers_compare_exactly_and_task_tolerance_overrides_the_default() -> None:
    assert not verdict(torch.tensor([1, 2, 3]), torch.tensor([1, 2, 4])).ok
    assert verdict(torch.tensor([1, 2, 3]), torch.tensor([1, 2, 3])).ok
    expected = torch.tensor([100.0])
    assert not verdict(expected, torch.tensor([100.5])).ok
    assert verdict(expected, torch.tensor([100.5]), tol=Tolerance(rtol=1e-2)).ok
    assert not verdict(expected, torch.tensor([100.5]), tol=Tolerance(rtol=1e-3)).ok


def test_nan_matches_nan_but_not_a_number() -> None:
    nan, inf = float("nan"), float("inf")
    assert verdict(torch.tensor([1.0, nan, inf]), torch.tensor([1.0, nan, inf])).ok
    bad = verdict(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, nan, 3.0]))
    assert bad.rule == compare.VALUES
    assert "(your result has NaN or inf)" in bad.message
    assert "first at index (1,): expected 2, got nan" in bad.message
    # a NaN where the reference has a number is never "close", whatever the tolerance
    assert not verdict(torch.tensor([2.0]), torch.tensor([nan]), tol=Tolerance(rtol=1e9, atol=1e9)).ok
    assert not verdict(torch.tensor([nan]), torch.tensor([2.0])).ok


def test_first_differing_index_counts_and_max_errors() -> None:
    expected = torch.arange(6.0).reshape(2, 3)
    got = expected.clone()
    got[1, 0] = 30.0  # expected 3
    got[1, 2] = 5.5   # expected 5
    bad = verdict(expected, got)
    assert bad.message == ("result: 2 of 6 values differ; max abs error 27, max rel error 9; "
                           "first at index (1, 0): expected 3, got 30")


def test_where_expected_entries_are_0_the_error_is_absolute() -> None:
    """A relative error against 0 is meaningless (it used to read "max rel error 9e+12")."""
    zeros = verdict(torch.zeros(2, 2), torch.tensor([[0.0, 9.0], [0.0, 0.0]]))
    assert zeros.message == "result: 1 of 4 values differ; max abs error 9; first at index (0, 1): expected 0, got 9"
    mixed = verdict(torch.tensor([0.0, 2.0]), torch.tensor([9.0, 3.0]))
    assert mixed.message == ("result: 2 of 2 values differ; max abs error 9, max rel error 0.5; "
                             "first at index (0,): expected 0, got 9")


def test_zero_dim_tensors() -> None:
    assert verdict(torch.tensor(3.0), torch.tensor(3.0)).ok
    bad = verdict(torch.tensor(3.0), torch.tensor(4.0))
    assert (bad.rule, bad.message) == (compare.VALUES, "result: expected 3, got 4")
    shape = verdict(torch.tensor(3.0), torch.tensor([3.0]))
    assert (shape.rule, shape.message) == (compare.SHAPE, "result: expected shape (), got (1,)")
    # a Python number is not a 0-dim tensor, and a 0-dim tensor is not a Python number
    assert verdict(torch.tensor(3.0), 3.0).rule == compare.PLAIN_TENSOR
    number = verdict(3.0, torch.tensor(3.0))
    assert number.rule == compare.TYPE and ".item()" in number.message


def test_shape_then_dtype_then_device_are_named_in_that_order() -> None:
    expected = torch.zeros(2, 3)
    assert verdict(expected, torch.zeros(3, 2, dtype=torch.float64)).message == \
        "result: expected shape (2, 3), got (3, 2)"
    assert verdict(expected, torch.zeros(2, 3, dtype=torch.float64)).message == \
        "result: expected dtype float32, got float64"
    on_cpu = verdict(expected, torch.zeros(2, 3), device="meta")
    assert (on_cpu.rule, on_cpu.message) == (compare.DEVICE, "result: expected a tensor on meta, got one on cpu")
    # on meta only shape, dtype and device count: there are no values to compare
    assert verdict(expected, torch.ones(2, 3, device="meta"), device="meta").ok
    # values are not compared where the task says so (e.g. random numbers off the CPU)
    assert verdict(expected, torch.ones(2, 3), check_values=False).ok


def test_cuda_index_is_the_same_device() -> None:
    record = {**encode(torch.zeros(2)), "device": "cuda:0", "value": None}
    assert verdict(torch.zeros(2), record, device="cuda", check_values=False).ok
    assert verdict(torch.zeros(2), record, device="cpu", check_values=False).rule == compare.DEVICE


def test_tuples_and_lists() -> None:
    expected = (torch.zeros(2), torch.ones(2), torch.full((2,), 7.0))
    assert verdict(expected, (torch.zeros(2), torch.ones(2), torch.full((2,), 7.0))).ok
    assert verdict(expected, [torch.zeros(2), torch.ones(2), torch.full((2,), 7.0)]).ok
    short = verdict(expected, (torch.zeros(2), torch.ones(2)))
    assert (short.rule, short.message) == (compare.STRUCTURE, "result: expected 3 items, got 2")
    stacked = verdict(expected, torch.stack(list(expected)))
    assert stacked.message == "result: expected a tuple of 3 items, got a tensor of shape (3, 2)"
    inner = verdict(expected, (torch.zeros(2), torch.ones(2), torch.full((2,), 0.0)))
    assert inner.message.startswith("result[2]: 2 of 2 values differ")
    nested = verdict(((torch.zeros(1),), 2), ((torch.zeros(1, dtype=torch.int64),), 2))
    assert nested.message == "result[0][0]: expected dtype float32, got int64"
    assert verdict([1, 2.5, "a"], (1, 2.5, "a")).ok
    assert verdict([1.0, 2.0], (1, 2.0000001)).ok  # numbers within 1e-6; an int where a float is asked
    as_float = verdict([1, 2], (1, 2.0))  # but a float where an int is asked is the wrong type
    assert (as_float.rule, as_float.message) == (compare.TYPE, "result[1]: expected a Python int, got float 2.0 "
                                                 "(an integer tensor's .item() is an int; float() makes it a float)")
    assert not verdict([True], (1,)).ok  # a bool is not the number 1


def test_plain_tensor_rule() -> None:
    class Fancy(torch.Tensor):
        pass

    fancy = torch.zeros(2).as_subclass(Fancy)
    sub = verdict(torch.zeros(2), fancy)
    assert sub.rule == compare.PLAIN_TENSOR
    assert "expected a plain torch.Tensor, got the subclass" in sub.message and "Fancy" in sub.message
    param = verdict(torch.zeros(2), torch.nn.Parameter(torch.zeros(2)))
    assert param.rule == compare.PLAIN_TENSOR and "Parameter" in param.message
    # a record that claims to be a tensor but carries a subclass is refused too
    forged = {**encode(torch.zeros(2)), "value": fancy}
    assert verdict(torch.zeros(2), forged).message == "result: the value sent back is not a plain tensor"
    import numpy as np

    array = verdict(torch.zeros(2), np.zeros(2))
    assert (array.rule, array.message) == (compare.PLAIN_TENSOR, "result: expected a torch.Tensor, got numpy.ndarray")
    assert verdict(torch.zeros(2), [0.0, 0.0]).message == "result: expected a torch.Tensor, got list"


def test_unreadable_records_fail_without_crashing() -> None:
    for junk in (None, "tensor", 3, {"kind": "tensor", "shape": "big"}, {"kind": "tensor", "shape": [2], "dtype": None}):
        v = compare_value(torch.zeros(2), junk, device="cpu", check_values=True, tol=Tolerance())
        assert not v.ok
    missing = {**encode(torch.zeros(2)), "value": None}
    assert verdict(torch.zeros(2), missing).message == "result: values missing"


# ---------------------------------------------------------------- quiz answers

@pytest.mark.parametrize(("answer", "normal"), [
    ((2, 3), (2, 3)),
    (torch.Size([2, 3]), (2, 3)),
    ((), ()),
    ("error", "error"),
    ("Error ", "error"),
    ("ERROR", "error"),
    ("'error'", "error"),
])
def test_accepted_answer_forms(answer: Any, normal: Any) -> None:
    assert normalize_answer(encode(answer)) == (normal, "")


@pytest.mark.parametrize(("answer", "message"), [
    ([2, 3], "write the shape as a tuple, in round brackets like (2, 3), not as a list"),
    (5, "5 is a number, not a shape: (5) is just 5 in Python; a 1-d shape needs a trailing comma, (5,)"),
    ((2.0, 3.0), "write the shape as a tuple of whole numbers, like (2, 3); it contains 2.0"),
    ((True, 3), "write the shape as a tuple of whole numbers, like (2, 3); it contains True"),
    ((torch.tensor(2), 3), "write the shape as a tuple of whole numbers, like (2, 3); it contains a tensor of shape ()"),
    ("eror", "'eror' is not an answer; write a tuple like (2, 3), or the string \"error\" spelt exactly so"),
    ("(2, 3)", "'(2, 3)' is a string; write the shape without quotes, as a tuple like (2, 3)"),
    (2.0, "expected a tuple like (2, 3) or the string \"error\", got float"),
    (True, "expected a tuple like (2, 3) or the string \"error\", got bool"),
    (None, "expected a tuple like (2, 3) or the string \"error\", got None"),
    ({2, 3}, "expected a tuple like (2, 3) or the string \"error\", got set"),
    (torch.zeros(2, 3), "expected a tuple like (2, 3) or the string \"error\", got a tensor of shape (2, 3); "
                        "answer with its shape, tuple(t.shape)"),
])
def test_rejected_answer_forms_say_why(answer: Any, message: str) -> None:
    assert normalize_answer(encode(answer)) == (None, message)
    v = compare_answer((2, 3), encode(answer))
    assert (v.ok, v.rule, v.message) == (False, compare.ANSWER, message)


def test_compare_answer() -> None:
    assert compare_answer((2, 3), encode((2, 3))).ok
    assert compare_answer("error", encode(" Error")).ok
    wrong = compare_answer((2, 3), encode((3, 2)))
    assert (wrong.rule, wrong.message) == (compare.ANSWER, "(3, 2) is not right; line the shapes up from the "
                                                           "rightmost dimension and compare them pair by pair")
    assert compare_answer((2, 3), encode("error")).message.startswith("'error' is not right")
    assert not compare_answer("error", encode((2, 3))).ok
    unanswered = compare_answer((2, 3), encode(...))
    assert (unanswered.rule, unanswered.message) == (compare.NOT_IMPLEMENTED,
                                                     "not answered yet: replace ... with your answer")


# ---------------------------------------------------------------- a whole task

def _spec(**kw: Any) -> TaskSpec:
    base: dict[str, Any] = dict(name="f", kind="function", points=1.0, devices=["cpu", "meta"], values_on=["cpu"],
                                tol=Tolerance(), rules={}, check_inputs=True, check_repeat=True, grads_to=[])
    return TaskSpec(**{**base, **kw})


def _record(output: Any, x: torch.Tensor, second: Any = None) -> dict[str, Any]:
    return {"status": "ok", "output": encode(output), "inputs_after": {"x": encode(x)},
            "second": encode(output if second is None else second)}


def test_judge_task_names_the_device_and_case_that_failed() -> None:
    x = torch.tensor([1.0, 2.0])
    refs = [CaseRef({"x": x}, x * 2, "x=first"), CaseRef({"x": x}, x * 2, "x=second")]
    cpu = [_record(x * 2, x), _record(x * 2, x)]
    meta_ok = [_record(torch.empty(2, device="meta"), x.to("meta"))] * 2
    meta_bad = [meta_ok[0], _record(torch.empty(2), x.to("meta"))]  # case 2 comes back on the CPU
    passed = judge_task(_spec(), refs, "done", {"devices": {"cpu": cpu, "meta": meta_ok}}, "")
    assert passed == compare.Judgement("passed", "", {"cpu": "passed", "meta": "passed"})
    failed = judge_task(_spec(), refs, "done", {"devices": {"cpu": cpu, "meta": meta_bad}}, "")
    assert failed.status == "failed"
    assert failed.devices == {"cpu": "passed", "meta": "failed"}
    assert failed.feedback == "[device] on meta, case 2 (x=second): result: expected a tensor on meta, got one on cpu"


def test_judge_task_statuses_for_exceptions_timeouts_and_rules() -> None:
    x = torch.tensor([1.0])
    refs = [CaseRef({"x": x}, x, "x=1")]
    exc: dict[str, Any] = {"type": "ValueError", "message": "bad", "traceback": "  File ...\n", "not_implemented": False}
    boom = {"status": "error", "exception": exc}
    err = judge_task(_spec(devices=["cpu"]), refs, "done", {"devices": {"cpu": [boom]}}, "")
    assert (err.status, err.feedback) == ("error", "[exception] on cpu, case 1 (x=1): ValueError: bad\n  File ...")
    todo = {**boom, "exception": {**exc, "not_implemented": True}}
    assert judge_task(_spec(devices=["cpu"]), refs, "done", {"devices": {"cpu": [todo]}}, "").status == "failed"
    on_meta = judge_task(_spec(devices=["meta"], values_on=[]), refs, "done", {"devices": {"meta": [boom]}}, "")
    assert compare.META_NOTE in on_meta.feedback.splitlines()[0]
    slow = judge_task(_spec(), refs, "timeout", None, "took longer than 1 s")
    assert slow == compare.Judgement("timeout", "f took longer than 1 s and was stopped; is there an infinite loop?",
                                     {"cpu": "timeout", "meta": "timeout"})
    formula = judge_task(_spec(devices=["cpu"], rules={"autograd": "use autograd please"}), refs, "done",
                         {"devices": {"cpu": [{**_record(x, x), "autograd": False}]}}, "")
    assert formula.feedback == "[use autograd] on cpu, case 1 (x=1): use autograd please"
    changed = judge_task(_spec(devices=["cpu"]), refs, "done",
                         {"devices": {"cpu": [{**_record(x, x), "inputs_after": {"x": encode(x + 1)}}]}}, "")
    assert changed.feedback.startswith("[inputs unchanged] on cpu, case 1 (x=1): your function changed its input `x`")
    twice = judge_task(_spec(devices=["cpu"]), refs, "done", {"devices": {"cpu": [_record(x, x, second=x * 2)]}}, "")
    assert twice.feedback.startswith("[same result twice]") and "did gradients accumulate in .grad?" in twice.feedback
    short = judge_task(_spec(devices=["cpu"]), refs, "done", {"devices": {"cpu": []}}, "")
    assert (short.status, short.devices) == ("error", {"cpu": "error"})


# ---------------------------------------------------------------- judging is total (issue 11)

def test_a_huge_int_is_judged_not_raised() -> None:
    v = verdict(3.5, 10 ** 400)
    assert v.rule == compare.VALUES and "expected 3.5, got 1000000000" in v.message and len(v.message) < 120
    assert verdict(10 ** 400, 10 ** 400).ok
    assert not compare.compare_value_answer(2.5, encode(10 ** 400)).ok


_LEAF = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10 ** 500), max_value=10 ** 500),
                  st.floats(), st.text())
_REFS = st.sampled_from([torch.tensor([1.0, 2.0]), torch.tensor(3.0), torch.tensor([1, 2]),
                         (torch.zeros(2), torch.ones(1)), [1, 2], 3, 2.5, 10 ** 300, "error", None, True,
                         torch.float32, (2, 3), [(1,), "x"]])


def _encoded(depth: int = 0) -> st.SearchStrategy[Any]:
    """Any value as the child encodes it (schema-valid: messages.encoded accepts it)."""
    tensor = st.builds(lambda shape, dt, dev, v: {
        "kind": "tensor", "shape": shape, "dtype": dt, "device": dev, "requires_grad": False,
        "has_grad_fn": v, "value": torch.full(shape, math.nan if v else 1e308, dtype=torch.float64)
        if dt == "float64" else None},
        st.lists(st.integers(0, 3), max_size=3), st.sampled_from(["float32", "float64", "int64", "?\x1b"]),
        st.sampled_from(["cpu", "meta", "cuda:0", ""]), st.booleans())
    flat = st.one_of(tensor, st.builds(lambda v: {"kind": "py", "value": v}, _LEAF),
                     st.builds(lambda t: {"kind": "dtype", "value": t}, st.text(max_size=64)),
                     st.builds(lambda t, s: {"kind": "other", "type": t, "tensor_subclass": s},
                               st.text(max_size=300), st.booleans()))
    if depth >= 3:
        return flat
    return st.one_of(flat, st.builds(lambda t, items: {"kind": "seq", "type": t, "items": items},
                                     st.text(max_size=10), st.lists(st.deferred(lambda: _encoded(depth + 1)),
                                                                    max_size=4)))


@given(_REFS, _encoded())
@settings(max_examples=300, deadline=None)
def test_no_returned_value_raises_out_of_the_verdicts(expected: Any, got: dict[str, Any]) -> None:
    from grader.boundary import messages

    got = messages.encoded(got, "value")  # what the runner lets through
    for device, check_values in (("cpu", True), ("meta", False)):
        assert isinstance(compare_value(expected, got, device=device, check_values=check_values,
                                        tol=Tolerance()), compare.Verdict)
    if not isinstance(expected, torch.Tensor) and not (isinstance(expected, tuple) and any(
            isinstance(e, torch.Tensor) for e in expected)):  # a quiz's reference answer is plain data
        assert isinstance(compare_answer(expected, got), compare.Verdict)
        assert isinstance(compare.compare_value_answer(expected, got), compare.Verdict)
    assert isinstance(compare.compare_grad_flags(compare.grad_flags(expected), got), compare.Verdict)
    spec = TaskSpec(name="f", kind="function", points=1, devices=["cpu"], values_on=["cpu"], tol=Tolerance(),
                    rules={"autograd": "use autograd"}, check_inputs=True, check_repeat=True, grads_to=[],
                    grad_flags=True)
    ref = CaseRef(args={"x": torch.zeros(2)}, expected=expected, label="x")
    record = {"status": "ok", "autograd": True, "output": got, "second": got, "inputs_after": {"x": got}}
    judgement = judge_task(spec, [ref], "done", {"devices": {"cpu": [record]}}, "")
    assert judgement.status in ("passed", "failed", "error") and (judgement.status == "passed") != bool(
        judgement.feedback)
