"""Generic wrong answers that `grade check` tries against every function task.

A lesson is only tested if a wrong answer fails it. Each probe is a plausible
shortcut a student might submit (return an input unchanged, zeros of the right
shape, the first visible case's answer as a constant, the reference run on
copies of the inputs, a float where an int is asked); `grade check` grades one
submission per probe through the same isolated runner students get, and every
task such an answer passes is a problem, unless the task's YAML exempts the
probe with a reason (`probes_exempt: {probe: why}`).

A probe is only tried where it is really wrong: one whose result equals the
reference's on every case (`ones` for a task that returns ones) is skipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from grader.compare import Tolerance, compare_values
from grader.course import CourseDir
from grader.grading import GradeOptions, PlannedTask, grade_source, load_solution, plan, references
from grader.schema import PROBE_NAMES, SharesMemory, Task
from grader.values import is_numpy_marker

MAX_CONSTANT_ELEMENTS = 10_000
"""A constant answer larger than this is not written into a probe's source."""
MAX_INPUT_PROBES = 4
"""Return-an-input probes tried: one per parameter position, up to this many."""

DESCRIPTIONS = {
    "input": "returning its input `{param}` unchanged",
    "zeros": "returning zeros_like of the expected result",
    "ones": "returning ones_like of the expected result",
    "constant": "returning the first visible case's expected result as a constant",
    "copied_inputs": "running the reference on copies of the inputs (so nothing is shared or changed in place)",
    "float_for_int": "returning a Python float where the reference returns an int",
}


@dataclass(frozen=True)
class Finding:
    """A probe that a task does not fail (or an exemption that is not needed)."""

    task_index: int
    task: str
    probe: str
    what: str
    stale: bool = False
    """The task exempts this probe, but the probe fails (or does not apply) anyway."""


# ---------------------------------------------------------------- the probe submissions' source

_HELPERS = '''
import torch as _pt

_REF = {}
exec(compile(_SOLUTION, "reference", "exec"), _REF)
_DEVICES = ("cpu", "cuda", "mps", "meta", "xpu")


def _device(kw):
    for v in kw.values():
        if isinstance(v, _pt.Tensor):
            return v.device
    for v in kw.values():
        if isinstance(v, str) and v.split(":")[0] in _DEVICES:
            return _pt.device(v)
    return _pt.device("cpu")


def _map(fn, value):
    if isinstance(value, _pt.Tensor):
        return fn(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_map(fn, v) for v in value)
    return fn(value)


def _number(make):
    def apply(v):
        if isinstance(v, _pt.Tensor):
            return make(v)
        if isinstance(v, bool):
            return v
        if isinstance(v, (int, float)):
            return type(v)(make(_pt.tensor(v)).item())
        return v
    return apply


def _zeros(value):
    return _map(_number(_pt.zeros_like), value)


def _ones(value):
    return _map(_number(_pt.ones_like), value)


def _float_for_int(value):
    return _map(lambda v: float(v) if type(v) is int else v, value)


def _copied(value):
    if isinstance(value, _pt.Tensor):
        return value.detach().clone().requires_grad_(value.requires_grad)
    if hasattr(value, "__array_interface__") and hasattr(value, "copy"):
        return value.copy()
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


def _placed(value, kw):
    device = _device(kw)
    return _map(lambda v: v.to(device) if isinstance(v, _pt.Tensor) else v, value)
'''


def _literal(value: Any) -> str:
    """Python source that rebuilds a reference result (tensors, numbers, dtypes, sequences)."""
    if isinstance(value, torch.Tensor):
        data = _literal(value.detach().cpu().tolist())
        return f"_pt.tensor({data}, dtype=_pt.{str(value.dtype).removeprefix('torch.')})"
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if isinstance(value, tuple) else f"[{inner}]"
    if isinstance(value, torch.dtype):
        return f"_pt.{str(value).removeprefix('torch.')}"
    return repr(value)


def _numel(value: Any) -> int:
    if isinstance(value, torch.Tensor):
        return value.numel()
    if isinstance(value, (tuple, list)):
        return sum(_numel(v) for v in value) + len(value)
    return 1


# ---------------------------------------------------------------- which probes are really wrong

def unusable_result(value: object) -> str:
    """Why the grader cannot use a reference's result ('' when it can): a type it cannot compare
    (a NumPy array where a tensor is meant), or NaN / inf, which no student should have to match."""
    if isinstance(value, torch.Tensor):
        if (value.is_floating_point() or value.is_complex()) and not bool(torch.isfinite(value).all()):
            return "returns NaN or inf"
        return ""
    if isinstance(value, (tuple, list)):
        return next((p for p in map(unusable_result, value) if p), "")
    if isinstance(value, float):
        return "" if math.isfinite(value) else "returns NaN or inf"
    if value is None or isinstance(value, (bool, int, str, torch.dtype)):
        return ""
    kind = type(value)
    name = f"{kind.__module__}.{kind.__qualname__}".removeprefix("builtins.")
    fix = "; return torch.from_numpy(...) of it" if name == "numpy.ndarray" else ""
    return f"returns a {name}, not a tensor{fix}"


def _transform(name: str, value: Any) -> Any:
    """The parent's version of a probe's transformation, to see whether it changes anything."""
    def each(v: Any) -> Any:
        if isinstance(v, (tuple, list)):
            return type(v)(each(x) for x in v)
        if name == "float_for_int":
            return float(v) if type(v) is int else v
        fill = 0 if name == "zeros" else 1
        if isinstance(v, torch.Tensor):
            return torch.full_like(v, fill)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return type(v)(fill)
        return v
    return each(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            return False
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        return compare_values(a, b, tol=Tolerance(0, 0), what="").ok
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _sharing_matters(task: Task, planned: PlannedTask) -> bool:
    """Copies of the inputs are a wrong answer where the task changes an input or shares memory."""
    return bool(task.modifies) or any(isinstance(r, SharesMemory) for r in task.rules) or any(
        is_numpy_marker(v) for args in planned.cases for v in args.values())


def _probe_bodies(p: PlannedTask, expected: list[Any]) -> dict[str, str]:
    """For one task: probe name (with `input:k`) -> the body of the function the probe submits."""
    task = p.task
    ref = task.reference or task.name
    call = f"_REF[{ref!r}](**kw)"
    bodies: dict[str, str] = {}
    params = task.parameters
    for k, param in enumerate(params[:MAX_INPUT_PROBES]):
        pairs = [(args[param], e) for args, e in zip(p.cases, expected, strict=True) if param in args]
        if pairs and not all(_same(a, e) for a, e in pairs):
            bodies[f"input:{k}"] = f"return kw[{param!r}]"
    for name in ("zeros", "ones", "float_for_int"):
        if not all(_same(_transform(name, e), e) for e in expected):
            bodies[name] = f"return _{name}({call})"
    visible = [i for i, case in enumerate(task.cases) if not case.hidden]
    if visible and not all(_same(expected[visible[0]], e) for e in expected) \
            and _numel(expected[visible[0]]) <= MAX_CONSTANT_ELEMENTS:
        bodies["constant"] = f"return _placed({_literal(expected[visible[0]])}, kw)"
    if _sharing_matters(task, p):
        bodies["copied_inputs"] = f"return _REF[{ref!r}](**{{k: _copied(v) for k, v in kw.items()}})"
    return bodies


def probe_findings(course: CourseDir, ex_id: str, devices: tuple[str, ...] | None) -> list[Finding]:
    """Grade every probe submission of one exercise; what each task failed to catch."""
    exercise = course.exercise(ex_id)
    solution = load_solution(course, ex_id)
    opts = GradeOptions(devices=devices)
    planned = [(i, p) for i, p in enumerate(plan(course, ex_id, exercise, opts)) if p.task.kind == "function"]
    expected = {i: [r.expected for r in references(solution, p, ex_id)] for i, p in planned}
    # a reference result the grader cannot use is reported by `grade check` itself
    planned = [(i, p) for i, p in planned if not any(unusable_result(e) for e in expected[i])]
    bodies = {i: _probe_bodies(p, expected[i]) for i, p in planned}
    solution_source = course.solution_file(ex_id).read_text(encoding="utf-8")
    header = f"_SOLUTION = {solution_source!r}\n{_HELPERS}"
    findings: list[Finding] = []
    passed_by: dict[int, set[str]] = {i: set() for i, _ in planned}
    for label in sorted({label for b in bodies.values() for label in b}):
        probe = label.split(":")[0]
        source = [header]
        tried = []
        for i, p in planned:
            body = bodies[i].get(label)
            if body is not None:
                source.append(f"\n\ndef {p.task.name}(**kw):\n    {body}\n")
                tried.append((i, p))
        report = grade_source(course, ex_id, "".join(source), f"{ex_id}.py", opts)
        passed = {t.name for t in report.tasks if t.status == "passed"}
        for i, p in tried:
            if p.task.name not in passed:
                continue
            passed_by[i].add(probe)
            if probe not in p.task.probes_exempt:
                param = p.task.parameters[int(label.split(":")[1])] if ":" in label else ""
                findings.append(Finding(i, p.task.name, probe, DESCRIPTIONS[probe].format(param=param)))
    for i, p in planned:
        for probe in p.task.probes_exempt:
            if probe not in passed_by[i]:
                findings.append(Finding(i, p.task.name, probe, DESCRIPTIONS[probe].format(param="..."), stale=True))
    return findings


def probe_problems(findings: list[Finding], locate: Callable[[int], str]) -> list[str]:
    """`file:line: tasks[t]: ...` messages for `grade check`."""
    problems = []
    for f in findings:
        where = locate(f.task_index)
        if f.stale:
            problems.append(f"{where} {f.task} exempts the probe '{f.probe}', which fails it anyway (or does not "
                            "apply); remove it from `probes_exempt`")
            continue
        problems.append(f"{where} {f.task} passes with a wrong answer ({f.what}); add a case or rule that fails "
                        f"it, or exempt it with `probes_exempt: {{{f.probe}: why}}`")
    return problems


__all__ = ["PROBE_NAMES", "Finding", "probe_findings", "probe_problems", "unusable_result"]
