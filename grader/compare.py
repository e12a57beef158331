"""Verdicts: compares what the child sent back with the parent's references.

Everything from the child is untrusted data (dicts of plain values and
weights-only tensors); every field is type-checked before use. The first
failing check of a case is reported, naming its rule, the device and the case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

# Rule names, as they appear in feedback.
EXCEPTION = "exception"
NOT_IMPLEMENTED = "not implemented"
PLAIN_TENSOR = "plain tensor"
STRUCTURE = "structure"
SHAPE = "shape"
DTYPE = "dtype"
DEVICE = "device"
VALUES = "values"
TYPE = "type"
INPUTS = "inputs unchanged"
REPEAT = "same result twice"
AUTOGRAD = "use autograd"
FORBIDDEN = "forbidden call"
GRADIENTS = "gradients flow"
TAMPER = "tampering"
MODIFIES = "changes in place"
GRAD_FLAGS = "requires_grad / is_leaf"
REQUIRED = "required call"
CREATED_ON = "created on"
SHARING = "shares memory"
OPS = "torch operations"
ANSWER = "answer"
UNWRITTEN = "unwritten"
"""The `kind` of a quiz answer that the source computes instead of writing (see answers.py)."""

_DEFAULT_TOL = {
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-7, 1e-7),
    torch.complex64: (1.3e-6, 1e-5),
}


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rule: str = ""
    message: str = ""

    @classmethod
    def fail(cls, rule: str, message: str) -> Verdict:
        return cls(False, rule, message)


PASS = Verdict(True)


@dataclass(frozen=True)
class Tolerance:
    rtol: float | None = None
    atol: float | None = None

    def for_dtype(self, dtype: torch.dtype) -> tuple[float, float]:
        rtol, atol = _DEFAULT_TOL.get(dtype, (0.0, 0.0))
        return (self.rtol if self.rtol is not None else rtol, self.atol if self.atol is not None else atol)


def _shape(t: tuple[int, ...] | list[int] | torch.Size) -> str:
    return str(tuple(int(d) for d in t))


def _dtype_name(dt: torch.dtype) -> str:
    return str(dt).replace("torch.", "")


def _type_name(got: dict[str, Any]) -> str:
    name = _type_name_of(got)
    return name if len(name) <= 200 else name[:197] + "..."


def _type_name_of(got: dict[str, Any]) -> str:
    kind = got.get("kind")
    if kind == "py":
        return "None" if got.get("value") is None else type(got.get("value")).__name__
    if kind == "seq":
        return str(got.get("type", "sequence"))
    if kind == "dtype":
        return "torch.dtype"
    if kind == "tensor":
        shape = got.get("shape")
        return f"a tensor of shape {_shape(shape)}" if isinstance(shape, list) else "a tensor"
    name = str(got.get("type", "unknown"))
    name = {"builtins.ellipsis": "... (not answered yet)", "builtins.NoneType": "None"}.get(name, name)
    return name.removeprefix("builtins.")


def _close(a: int | float, b: int | float, rel: float, abs_: float) -> bool:
    """`math.isclose` for any two Python numbers: an int too large for a float is compared
    exactly instead of raising OverflowError."""
    try:
        return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)
    except OverflowError:
        return a == b


def shown(value: Any, limit: int = 80) -> str:
    """A short repr of any plain value (a 400-digit int, a long string) for feedback."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # ints beyond Python's str() digit limit
        text = f"<a {type(value).__name__} too large to show>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def compare_value(expected: Any, got: Any, *, device: str, check_values: bool, tol: Tolerance,
                  what: str = "result") -> Verdict:
    """Is `got` (the child's encoded value) the same as the reference value `expected`?"""
    if not isinstance(got, dict):
        return Verdict.fail(TYPE, f"{what}: the grader could not read this value")
    if isinstance(expected, torch.Tensor):
        return _compare_tensor(expected, got, device=device, check_values=check_values, tol=tol, what=what)
    if isinstance(expected, (tuple, list)):
        if got.get("kind") != "seq" or not isinstance(got.get("items"), list):
            return Verdict.fail(STRUCTURE, f"{what}: expected a {type(expected).__name__} of "
                                           f"{len(expected)} items, got {_type_name(got)}")
        items = got["items"]
        if len(items) != len(expected):
            return Verdict.fail(STRUCTURE, f"{what}: expected {len(expected)} items, got {len(items)}")
        for i, (e, g) in enumerate(zip(expected, items, strict=True)):
            v = compare_value(e, g, device=device, check_values=check_values, tol=tol, what=f"{what}[{i}]")
            if not v.ok:
                return v
        return PASS
    if isinstance(expected, torch.dtype):
        if got.get("kind") != "dtype":
            return Verdict.fail(TYPE, f"{what}: expected a torch.dtype, got {_type_name(got)}")
        if got.get("value") != _dtype_name(expected):
            return Verdict.fail(VALUES, f"{what}: expected {_dtype_name(expected)}, got {shown(got.get('value'))}")
        return PASS
    if isinstance(expected, (bool, int, float, str)) or expected is None:
        if got.get("kind") != "py":
            hint = " (use .item() to get a Python number)" if got.get("kind") == "tensor" else ""
            return Verdict.fail(TYPE, f"{what}: expected a Python {type(expected).__name__}, "
                                      f"got {_type_name(got)}{hint}")
        value = got.get("value")
        if isinstance(expected, bool) or isinstance(expected, str) or expected is None:
            ok = type(value) is type(expected) and value == expected
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            ok = False
        elif isinstance(expected, int) and not isinstance(value, int):
            return Verdict.fail(TYPE, f"{what}: expected a Python int, got {type(value).__name__} {value!r} "
                                      "(an integer tensor's .item() is an int; float() makes it a float)")
        else:
            ok = _close(value, expected, 1e-6, 1e-6)
        if not ok:
            return Verdict.fail(VALUES, f"{what}: expected {shown(expected)}, got {shown(value)}")
        return PASS
    return Verdict.fail(TYPE, f"{what}: the reference returned a {type(expected).__name__}, "
                              "which the grader cannot compare")


def _compare_tensor(expected: torch.Tensor, got: dict[str, Any], *, device: str, check_values: bool,
                    tol: Tolerance, what: str) -> Verdict:
    if got.get("kind") != "tensor":
        if got.get("tensor_subclass"):
            return Verdict.fail(PLAIN_TENSOR,
                                f"{what}: expected a plain torch.Tensor, got the subclass {_type_name(got)}")
        return Verdict.fail(PLAIN_TENSOR, f"{what}: expected a torch.Tensor, got {_type_name(got)}")
    value = got.get("value")
    if value is not None and type(value) is not torch.Tensor:
        return Verdict.fail(PLAIN_TENSOR, f"{what}: the value sent back is not a plain tensor")
    shape = list(value.shape) if value is not None else got.get("shape")
    if not isinstance(shape, list) or not all(isinstance(d, int) for d in shape):
        return Verdict.fail(SHAPE, f"{what}: the grader could not read the shape")
    if shape != list(expected.shape):
        return Verdict.fail(SHAPE, f"{what}: expected shape {_shape(expected.shape)}, got {_shape(shape)}")
    dtype = _dtype_name(value.dtype) if value is not None else got.get("dtype")
    if dtype != _dtype_name(expected.dtype):
        return Verdict.fail(DTYPE, f"{what}: expected dtype {_dtype_name(expected.dtype)}, got {dtype}")
    got_device = str(got.get("device", ""))
    if got_device.split(":")[0] != device:
        return Verdict.fail(DEVICE,
                            f"{what}: expected a tensor on {device}, got one on {got_device or 'an unknown device'}")
    if not check_values or device == "meta":
        return PASS
    if value is None:
        reason = "too large to compare" if got.get("too_large") else "missing"
        return Verdict.fail(VALUES, f"{what}: values {reason}")
    return compare_values(expected, value, tol=tol, what=what)


def compare_values(expected: torch.Tensor, got: torch.Tensor, *, tol: Tolerance, what: str) -> Verdict:
    """Element-wise comparison with the max errors and the first differing index."""
    e = expected.detach().cpu()
    g = got.detach().cpu()
    if e.numel() == 0 or (g.dtype == e.dtype and torch.equal(g, e)):  # the same values: no tolerance needed
        return PASS
    if e.is_floating_point() or e.is_complex():
        rtol, atol = tol.for_dtype(e.dtype)
        e64 = e.to(torch.complex128 if e.is_complex() else torch.float64)
        g64 = g.to(e64.dtype)
        close = torch.isclose(g64, e64, rtol=rtol, atol=atol, equal_nan=True)
    else:
        e64 = g64 = e
        close = g == e
    if bool(close.all()):
        return PASS
    nan_note = " (your result has NaN or inf)" if not bool(torch.isfinite(g.to(torch.float64)).all()) else ""
    if e.dim() == 0:
        return Verdict.fail(VALUES, f"{what}: expected {_item(e)}, got {_item(g)}{nan_note}")
    index = tuple(int(i) for i in (~close).nonzero()[0].tolist())
    diff = (g64 - e64).abs().to(torch.float64) if e.is_floating_point() or e.is_complex() \
        else (g.to(torch.float64) - e.to(torch.float64)).abs()
    finite = torch.isfinite(diff)
    max_abs = float(diff[finite].max()) if bool(finite.any()) else float("nan")
    # a relative error means nothing where the expected entry is 0: those count by their absolute error only
    magnitude = e.to(diff.dtype if not e.is_complex() else torch.complex128).abs().to(torch.float64)
    relative = finite & (magnitude > 0)
    rel = diff[relative] / magnitude[relative]
    rel_note = f", max rel error {float(rel.max()):.3g}" if rel.numel() and bool((rel > 0).any()) else ""
    n_bad = int((~close).sum())
    return Verdict.fail(VALUES, f"{what}: {n_bad} of {e.numel()} values differ{nan_note}; max abs error {max_abs:.3g}"
                                f"{rel_note}; first at index {index}: "
                                f"expected {_item(e[index])}, got {_item(g[index])}")


def _item(t: torch.Tensor) -> str:
    v = t.item()
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def normalize_answer(got: Any) -> tuple[Any, str]:
    """A quiz answer as plain data: a tuple of ints, a lower-case string, or an explanation why not."""
    if not isinstance(got, dict):
        return None, "the grader could not read your answer"
    kind, value = got.get("kind"), got.get("value")
    if kind == UNWRITTEN:
        return None, f"line {got.get('line')} computes your answer; write the answer itself, e.g. (2, 3)"
    if kind == "py" and isinstance(value, str):
        text = value.strip().strip("'\"").lower()
        if text == "error":
            return text, ""
        if text and all(ch in "0123456789(),[] " for ch in text):
            return None, f"{shown(value)} is a string; write the shape without quotes, as a tuple like (2, 3)"
        return None, (f"{shown(value)} is not an answer; write a tuple like (2, 3), or the string \"error\" "
                      "spelt exactly so")
    if kind == "py" and isinstance(value, int) and not isinstance(value, bool):
        return None, (f"{value} is a number, not a shape: ({value}) is just {value} in Python; a 1-d shape needs "
                      f"a trailing comma, ({value},)")
    if kind == "seq" and got.get("type") == "list":
        return None, "write the shape as a tuple, in round brackets like (2, 3), not as a list"
    if kind == "seq" and isinstance(got.get("items"), list):
        dims = []
        for item in got["items"]:
            v = item.get("value") if isinstance(item, dict) and item.get("kind") == "py" else None
            if not isinstance(v, int) or isinstance(v, bool):
                bad = shown(v) if isinstance(item, dict) and item.get("kind") == "py" else \
                    _type_name(item) if isinstance(item, dict) else "something unreadable"
                return None, f"write the shape as a tuple of whole numbers, like (2, 3); it contains {bad}"
            dims.append(v)
        return tuple(dims), ""
    if got.get("type") == "builtins.ellipsis":
        return None, "not answered yet: replace ... with your answer"
    hint = "; answer with its shape, tuple(t.shape)" if kind == "tensor" else ""
    return None, f"expected a tuple like (2, 3) or the string \"error\", got {_type_name(got)}{hint}"


def compare_answer(expected: Any, got: Any, wrong: str | None = None) -> Verdict:
    answer, problem = normalize_answer(got)
    if problem:
        rule = NOT_IMPLEMENTED if problem.startswith("not answered") else ANSWER
        return Verdict.fail(rule, problem)
    if isinstance(expected, (tuple, list)):
        expected = tuple(d if isinstance(d, bool) or not isinstance(d, int) else int(d) for d in expected)
    elif isinstance(expected, str):
        expected = expected.lower()
    if answer == expected:
        return PASS
    return Verdict.fail(ANSWER, f"{shown(answer)} is not right; " + (wrong or "line the shapes up from the rightmost "
                                                                          "dimension and compare them pair by pair"))


def _plain_answer(value: Any) -> Any:
    """A reference answer in the form `normalize_value_answer` gives a student's."""
    if isinstance(value, torch.dtype):
        return _dtype_name(value)
    if isinstance(value, str):
        return value.strip().strip("'\"").lower().removeprefix("torch.")
    if isinstance(value, (tuple, list)):
        return tuple(_plain_answer(v) for v in value)
    return value


def normalize_value_answer(got: Any) -> tuple[Any, str]:
    """A `value` quiz answer as plain data: dtypes and "torch.float32" both become "float32",
    text is compared without case or quotes, lists and tuples alike."""
    if not isinstance(got, dict):
        return None, "the grader could not read your answer"
    kind, value = got.get("kind"), got.get("value")
    if kind == UNWRITTEN:
        return None, (f"line {got.get('line')} computes your answer; write the answer itself, "
                      "e.g. \"float32\" or (2, 3)")
    if kind == "dtype" and isinstance(value, str):
        return value, ""
    if kind == "py" and isinstance(value, (str, int, float, bool)):
        return _plain_answer(value), ""
    if kind == "seq" and isinstance(got.get("items"), list):
        items = []
        for item in got["items"]:
            v, problem = normalize_value_answer(item)
            if problem:
                return None, problem
            items.append(v)
        return tuple(items), ""
    if got.get("type") == "builtins.ellipsis":
        return None, "not answered yet: replace ... with your answer"
    return None, f"expected a plain value (text, a number, True/False, a tuple or a dtype), got {_type_name(got)}"


def compare_value_answer(expected: Any, got: Any, wrong: str | None = None) -> Verdict:
    answer, problem = normalize_value_answer(got)
    if problem:
        rule = NOT_IMPLEMENTED if problem.startswith("not answered") else ANSWER
        return Verdict.fail(rule, problem)
    expected = _plain_answer(expected)
    same = type(answer) is type(expected) and answer == expected
    if isinstance(expected, float) and isinstance(answer, (int, float)) and not isinstance(answer, bool):
        same = _close(answer, expected, 1e-6, 1e-9)
    if same:
        return PASS
    return Verdict.fail(ANSWER, f"{shown(answer)} is not right" + (f"; {wrong}" if wrong else ""))


def check_call(record: dict[str, Any], *, rules: dict[str, Any]) -> Verdict:
    """The rules observed during a call: tampering, forbidden calls (autograd: `check_autograd`,
    after the values, so that a wrong result is told about its values first)."""
    if record.get("tampered"):
        return Verdict.fail(TAMPER, str(record["tampered"]))
    forbidden = record.get("forbidden") or []
    if rules.get("forbid") and forbidden:
        # one call often matches several listed names (F.linear is also aten::linear): name the first
        first = next((f for f in forbidden if isinstance(f, str)), "a forbidden function")
        return Verdict.fail(FORBIDDEN, f"{first} was called; {rules['forbid']}")
    return PASS


def check_observed(record: dict[str, Any], *, rules: dict[str, Any], device: str) -> Verdict:
    """The rules observed at torch's dispatcher and after the call: required calls, where
    tensors were created, operations counted, memory shared with an argument."""
    if rules.get("require") and not record.get("required"):
        return Verdict.fail(REQUIRED, rules["require"])
    if "created_on" in rules:
        where, feedback = rules["created_on"]
        wanted = device if where == "checked" else where
        created = record.get("created")
        others = [d for d in created if d != wanted] if isinstance(created, list) else ["an unknown device"]
        if others:
            return Verdict.fail(CREATED_ON, f"a tensor was created on {others[0]}, not on {wanted}; {feedback}")
    if "max_ops" in rules:
        limit, count, feedback = rules["max_ops"]
        ops = record.get("writes" if count == "writes" else "ops")
        if not isinstance(ops, int) or isinstance(ops, bool) or ops > limit:
            kind = "torch operation" if ops == 1 else "torch operations"
            if count == "writes":
                kind += " that writes into a tensor" if ops == 1 else " that write into a tensor"
            return Verdict.fail(OPS, f"the call ran {ops} {kind}, more than the {limit} allowed; {feedback}")
    if "shares" in rules and device != "meta":
        name, shared, feedback = rules["shares"]
        got = record.get("shares")
        if got is not None and got is not shared:
            state = "shares" if got else "does not share"
            return Verdict.fail(SHARING, f"the result {state} memory with `{name}`; {feedback}")
    return PASS


def check_autograd(record: dict[str, Any], *, rules: dict[str, Any]) -> Verdict:
    """The result is what the autograd engine produced for the input (the child's evidence)."""
    if rules.get("autograd") and record.get("autograd") is not True:
        return Verdict.fail(AUTOGRAD, rules["autograd"])
    return PASS


def grad_flags(value: Any) -> Any:
    """`requires_grad` and `is_leaf` of every tensor in a (nested) result, for `check_grad_flags`."""
    if isinstance(value, torch.Tensor):
        return {"requires_grad": bool(value.requires_grad), "is_leaf": bool(value.is_leaf)}
    if isinstance(value, (tuple, list)):
        return [grad_flags(v) for v in value]
    return None


def compare_grad_flags(flags: Any, got: Any, what: str = "result") -> Verdict:
    """The child's encoded result has the reference's `requires_grad` and `is_leaf` (types and
    values were compared before)."""
    if isinstance(flags, list):
        items = got.get("items") if isinstance(got, dict) else None
        for i, (f, g) in enumerate(zip(flags, items if isinstance(items, list) else [], strict=False)):
            v = compare_grad_flags(f, g, f"{what}[{i}]")
            if not v.ok:
                return v
        return PASS
    if not isinstance(flags, dict) or not isinstance(got, dict) or got.get("kind") != "tensor":
        return PASS
    requires_grad = got.get("requires_grad") is True
    is_leaf = got.get("has_grad_fn") is not True
    if requires_grad != flags["requires_grad"]:
        why = ("it should take part in autograd: make it a leaf with requires_grad_(True) or compute it from one"
               if flags["requires_grad"] else
               "it should be cut off from autograd (torch.no_grad(), .detach(), or made without requires_grad)")
        return Verdict.fail(GRAD_FLAGS, f"{what}: expected requires_grad={flags['requires_grad']}, "
                                        f"got {requires_grad}; {why}")
    if is_leaf != flags["is_leaf"]:
        why = ("it has a grad_fn, so it was computed from a tensor that requires grad; a leaf is created "
               "directly (or detached) and then marked with requires_grad_(True)" if flags["is_leaf"] else
               "it should be computed from a leaf, so that it records a grad_fn")
        return Verdict.fail(GRAD_FLAGS, f"{what}: expected is_leaf={flags['is_leaf']}, got {is_leaf}; {why}")
    return PASS


# ---------------------------------------------------------------- a whole task

@dataclass(frozen=True)
class CaseRef:
    """What the parent knows of one case: the inputs it sent and the reference results."""

    args: dict[str, Any]
    expected: Any
    label: str
    grads: dict[str, torch.Tensor | None] | None = None
    after: dict[str, torch.Tensor] | None = None
    """The `modifies` arguments as the reference left them."""
    flags: Any = None
    """`grad_flags` of the reference's result, when the task checks them."""
    hidden: bool = False
    """A hidden case: its arguments and expected result never appear in feedback (`hidden_message`)."""


@dataclass(frozen=True)
class TaskSpec:
    """The task facts that judging needs (built from the schema by grading.py)."""

    name: str
    kind: str
    points: float
    devices: list[str]
    values_on: list[str]
    tol: Tolerance
    rules: dict[str, Any]
    check_inputs: bool
    check_repeat: bool
    grads_to: list[str]
    modifies: tuple[str, ...] = ()
    grad_flags: bool = False
    result_device: str | None = None
    answer_form: str = "shape"
    wrong_answer: str | None = None
    meta_cases: int | None = None
    """How many of the cases (the first ones) run on `meta`; None: all."""

    def case_count(self, device: str, total: int) -> int:
        """How many of the `total` cases run on `device`."""
        return min(total, self.meta_cases) if device == "meta" and self.meta_cases else total

    def repeats_on(self, device: str) -> bool:
        """Whether the second call is made on `device`: only where values are compared (a
        repeated call differs in its values, never in shape or dtype)."""
        return self.check_repeat and device in self.values_on


@dataclass(frozen=True)
class Judgement:
    status: str
    feedback: str
    """The first failure of a visible case, else the first of a hidden case."""
    devices: dict[str, str]
    hidden: dict[str, str] | None = None
    """For a task with hidden cases: their own `status` and `feedback` (Gradescope reports them apart)."""


CHECKED_DEVICE = "the device being checked"
"""How a case's label shows a `{device: checked}` argument; feedback names the device instead."""

META_NOTE = ("on the meta device tensors have a shape and dtype but no values: create new tensors on the device "
             "asked for (or your input's device), and do not call .cpu(), .item(), .tolist() or .numpy()")


def _exception_feedback(exc: Any) -> tuple[str, str]:
    if not isinstance(exc, dict):
        return EXCEPTION, "your code raised an exception"
    if exc.get("not_implemented"):
        return NOT_IMPLEMENTED, "not implemented yet: replace `raise NotImplementedError` with your code"
    text = f"{exc.get('type', 'Exception')}: {exc.get('message', '')}".rstrip(": ")
    tb = str(exc.get("traceback", "")).rstrip()
    return EXCEPTION, f"{text}\n{tb}" if tb else text


def judge_case(spec: TaskSpec, ref: CaseRef, record: Any, device: str) -> Verdict:
    if not isinstance(record, dict):
        return Verdict.fail(TYPE, "the grader could not read the result of this call")
    if record.get("status") != "ok":
        rule, message = _exception_feedback(record.get("exception"))
        if rule == EXCEPTION and device == "meta":
            first, _, rest = message.partition("\n")
            message = (f"{first} ({META_NOTE})" + (f"\n{rest}" if rest else ""))
        return Verdict.fail(rule, message)
    verdict = check_call(record, rules=spec.rules)
    if verdict.ok:
        verdict = check_observed(record, rules=spec.rules, device=device)
    if not verdict.ok:
        return verdict
    check_values = device in spec.values_on
    out_device = spec.result_device or device
    verdict = compare_value(ref.expected, record.get("output"), device=out_device, check_values=check_values,
                            tol=spec.tol)
    if not verdict.ok:
        return verdict
    verdict = check_autograd(record, rules=spec.rules)
    if not verdict.ok:
        return verdict
    after = record.get("inputs_after")
    for name in spec.modifies:
        expected_after = (ref.after or {}).get(name)
        if expected_after is None:
            continue
        got = after.get(name) if isinstance(after, dict) else None
        v = compare_value(expected_after, got, device=device, check_values=check_values, tol=spec.tol, what=name)
        if not v.ok:
            return Verdict.fail(MODIFIES, f"`{name}` after the call: {v.message.removeprefix(name + ': ')}; "
                                          f"this function must change `{name}` in place")
    if spec.grad_flags:
        verdict = compare_grad_flags(ref.flags, record.get("output"))
        if not verdict.ok:
            return verdict
    if spec.check_inputs:
        for name, original in ref.args.items():
            if not isinstance(original, torch.Tensor) or name in spec.modifies:
                continue
            got = after.get(name) if isinstance(after, dict) else None
            v = compare_value(original.detach(), got, device=device, check_values=check_values, tol=Tolerance(0, 0),
                              what=name)
            if not v.ok:
                return Verdict.fail(INPUTS, f"your function changed its input `{name}` in place ({v.message}); "
                                            "work on a copy instead")
    if spec.repeats_on(device):
        v = compare_value(ref.expected, record.get("second"), device=out_device, check_values=check_values,
                          tol=spec.tol)
        if not v.ok:
            return Verdict.fail(REPEAT, f"calling {spec.name} a second time with the same inputs gave a different "
                                        f"result ({v.message}); did gradients accumulate in .grad? "
                                        "Start from a fresh leaf tensor or use torch.autograd.grad")
    if spec.check_inputs:  # after the repeat: gradients accumulating are the likelier diagnosis then
        for name, original in ref.args.items():
            got = after.get(name) if isinstance(after, dict) else None
            if not isinstance(original, torch.Tensor) or name in spec.modifies or not isinstance(got, dict):
                continue
            requires_grad = original.requires_grad or name in spec.grads_to
            if got.get("requires_grad") is not requires_grad:
                return Verdict.fail(INPUTS, f"your function changed `{name}.requires_grad` of the caller's tensor "
                                            f"to {not requires_grad}; set it on a copy "
                                            f"(`{name}.detach().clone().requires_grad_()`) instead")
    if spec.grads_to and ref.grads is not None:
        grads = record.get("grads")
        if not isinstance(grads, dict):
            reason = record.get("grads_error") or "the output is not connected to the autograd graph"
            return Verdict.fail(GRADIENTS, f"{spec.rules.get('gradients', '')} ({reason})".strip())
        for name in spec.grads_to:
            expected_grad = ref.grads.get(name)
            got = grads.get(name)
            if got is None:
                return Verdict.fail(GRADIENTS, f"no gradient reaches `{name}`: {spec.rules.get('gradients', '')}")
            if expected_grad is not None:
                v = compare_value(expected_grad, got, device=device, check_values=check_values, tol=spec.tol,
                                  what=f"gradient of {name}")
                if not v.ok:
                    return Verdict.fail(GRADIENTS, v.message)
    return PASS


def _kind_of(got: Any) -> str:
    """What a result was like, without anything derived from the inputs (no shape, no value)."""
    if not isinstance(got, dict):
        return "something unreadable"
    if got.get("kind") == "tensor":
        return "a tensor"  # its dtype or shape would tell the hidden input's
    if got.get("kind") == "py":
        return "None" if got.get("value") is None else type(got.get("value")).__name__
    if got.get("kind") == "seq":
        return f"a {_type_name(got)}"
    return _type_name(got)


def hidden_message(spec: TaskSpec, verdict: Verdict, record: Any) -> str:
    """A failure of a hidden case in words that name the rule and what the student's result was
    like, never the case's arguments, its expected result, or numbers derived from them."""
    got = record.get("output") if isinstance(record, dict) else None
    kind = _kind_of(got)
    rule = verdict.rule
    if rule == EXCEPTION:
        exc = record.get("exception") if isinstance(record, dict) else None
        name = shown(exc.get("type"), 60).strip("'") if isinstance(exc, dict) else "an exception"
        tb = str(exc.get("traceback", "")).rstrip() if isinstance(exc, dict) else ""
        text = f"your code raised {name} (on a hidden case its message is not shown)"
        return f"{text}\n{tb}" if tb else text
    templates = {
        SHAPE: f"your result ({kind}) does not have the expected shape",
        DTYPE: f"your result ({kind}) does not have the expected dtype",
        VALUES: f"your result ({kind}) has the expected shape and dtype but wrong values"
                + (" (it has NaN or inf)" if "NaN or inf" in verdict.message else ""),
        STRUCTURE: f"your result ({kind}) does not have the expected structure",
        TYPE: f"your result ({kind}) is not of the expected type",
        PLAIN_TENSOR: f"your result ({kind}) is not a plain torch.Tensor",
        MODIFIES: "an argument this function must change in place is not right after the call",
        INPUTS: "your function changed one of its inputs in place; work on a copy instead",
        REPEAT: f"calling {spec.name} a second time with the same inputs gave a different result; did gradients "
                "accumulate in .grad?",
        GRADIENTS: f"the gradients that flow back to the inputs are wrong or missing. {spec.rules.get('gradients', '')}"
                   .strip(),
    }
    return templates.get(rule, verdict.message)  # the other rules name nothing of the case


def judge_task(spec: TaskSpec, refs: list[CaseRef], run_status: str, result: dict[str, Any] | None,
               detail: str) -> Judgement:
    """One task's status, feedback and per-device statuses; every case is judged (a visible
    failure is reported before a hidden one)."""
    hidden_cases = any(ref.hidden for ref in refs)

    def whole(status: str, feedback: str) -> Judgement:
        return Judgement(status, feedback, {d: status for d in spec.devices},
                         {"status": status, "feedback": ""} if hidden_cases else None)

    if run_status == "timeout":
        return whole("timeout", f"{spec.name} {detail} and was stopped; is there an infinite loop?")
    if run_status in ("lost", "unavailable"):  # the grader's process went away twice, or a device would not start
        return whole("grader_error", detail)
    if run_status != "done" or not isinstance(result, dict):
        return whole("error", detail or "the grader could not read the results")
    if "missing" in result:
        missing = str(result["missing"])
        return whole("error", missing if len(missing) <= 500 else missing[:497] + "...")
    if spec.kind == "answer":
        compare = compare_value_answer if spec.answer_form == "value" else compare_answer
        verdict = compare(refs[0].expected, result.get("answer"), spec.wrong_answer)
        status = "passed" if verdict.ok else "failed"
        return Judgement(status, "" if verdict.ok else f"[{verdict.rule}] {verdict.message}", {"cpu": status})
    per_device = result.get("devices")
    if not isinstance(per_device, dict):
        return whole("error", "the grader could not read the results")
    statuses: dict[str, str] = {}
    visible_failure = hidden_failure = ""
    hidden_status = "passed"
    for device in spec.devices:
        records = per_device.get(device)
        count = spec.case_count(device, len(refs))
        if not isinstance(records, list) or len(records) != count:
            statuses[device] = "error"
            visible_failure = visible_failure or f"[{device}] the grader could not read the results"
            continue
        statuses[device] = "passed"
        for i, (ref, record) in enumerate(zip(refs[:count], records, strict=True)):
            verdict = judge_case(spec, ref, record, device)
            if verdict.ok:
                continue
            bad = "error" if verdict.rule == EXCEPTION else "failed"
            if statuses[device] == "passed":
                statuses[device] = bad
            if ref.hidden and not hidden_failure:
                hidden_status = bad
                hidden_failure = f"[{verdict.rule}] on {device}, hidden case {i + 1}: " \
                                 f"{hidden_message(spec, verdict, record)}"
            elif not ref.hidden and not visible_failure:
                label = ref.label.replace(CHECKED_DEVICE, repr(device))
                visible_failure = f"[{verdict.rule}] on {device}, case {i + 1} ({label}): {verdict.message}"
    hidden = {"status": hidden_status, "feedback": hidden_failure} if hidden_cases else None
    if all(s == "passed" for s in statuses.values()):
        return Judgement("passed", "", statuses, hidden)
    status = "error" if "error" in statuses.values() else "failed"
    return Judgement(status, visible_failure or hidden_failure, statuses, hidden)
