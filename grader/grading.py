"""Grading one exercise: plan -> run the child -> compute references -> judge -> report.

The pipeline order is the body of `grade_source`. References come from
`solutions/<id>.py`, imported here, in the parent, never in the child.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import time
import types
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from grader import boundary
from grader.answers import read_answers
from grader.boundary import PretendAvailable
from grader.compare import CaseRef, Judgement, TaskSpec, Tolerance, grad_flags, judge_task
from grader.course import CourseDir
from grader.errors import GraderError, UsageError
from grader.results import ExerciseReport, TaskResult
from grader.rules import forbidden_ops
from grader.scan import scan
from grader.schema import (
    CreatedOn,
    Exercise,
    ForbidCalls,
    GradientsFlow,
    MaxTorchOps,
    RequireAutograd,
    RequireCalls,
    SharesMemory,
    StayInTorch,
    Task,
)
from grader.values import DEVICE, case_args, describe, is_numpy_marker, numpy_of, seed_for

ALL_DEVICES = ("cpu", "cuda", "mps", "meta")


@dataclass(frozen=True)
class GradeOptions:
    devices: tuple[str, ...] | None = None
    """Devices to check; None means every available one."""
    timeout: float | None = None
    """Per-task timeout that overrides the YAML."""
    student: str | None = None


def available_devices() -> tuple[str, ...]:
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    found.append("meta")
    return tuple(found)


def parse_devices(text: str | None) -> tuple[str, ...] | None:
    if not text:
        return None
    wanted = tuple(d.strip() for d in text.split(",") if d.strip())
    for d in wanted:
        if d not in ALL_DEVICES:
            raise UsageError(f"unknown device '{d}' in --devices; choose from {', '.join(ALL_DEVICES)}")
    available = available_devices()
    missing = [d for d in wanted if d not in available]
    if missing:
        raise UsageError(f"device {', '.join(missing)} is not available on this machine "
                         f"(available: {', '.join(available)})")
    return wanted


class SolutionError(GraderError):
    """A reference solution is missing or broken: an instructor's problem."""


@lru_cache(maxsize=64)
def _load_solution(path: Path, mtime: float) -> types.ModuleType:
    name = f"_grader_solution_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SolutionError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise SolutionError(f"{path}: the reference solution fails to import: {type(exc).__name__}: {exc}") from None
    sys.modules.pop(name, None)
    return module


def load_solution(course: CourseDir, ex_id: str) -> types.ModuleType:
    path = course.solution_file(ex_id)
    if not path.is_file():
        raise SolutionError(f"{path}: reference solution not found")
    return _load_solution(path, path.stat().st_mtime)


@dataclass(frozen=True)
class PlannedTask:
    task: Task
    spec: TaskSpec
    cases: list[dict[str, Any]]
    timeout: float
    available: list[list[str] | None]
    """Per case: the devices `torch.cuda/mps.is_available()` pretend to have (None: the real ones)."""


def task_devices(task: Task, selected: tuple[str, ...]) -> list[str]:
    allowed = [d for d in selected if (task.devices is None or d in task.devices) and (d != "meta" or task.meta)]
    return allowed or ["cpu"]


def _float_tensor_args(task: Task) -> list[str]:
    """The arguments that are floating-point tensors in every case (gradients can reach them)."""
    names: list[str] | None = None
    for case in task.cases:
        built = case_args(case, seed=0, student=None)
        here = [k for k, v in built.items() if isinstance(v, torch.Tensor) and v.is_floating_point()]
        names = here if names is None else [n for n in names if n in here]
    return names or []


def plan(course: CourseDir, ex_id: str, exercise: Exercise, opts: GradeOptions) -> list[PlannedTask]:
    selected = opts.devices or available_devices()
    default_timeout = course.course.defaults.timeout
    planned = []
    for task in exercise.tasks:
        # an answer is a value read once, not a call per device
        devices = task_devices(task, selected) if task.kind == "function" else ["cpu"]
        rules: dict[str, Any] = {}
        grads_to: list[str] = []
        for rule in task.rules:
            if isinstance(rule, RequireAutograd):
                rules["autograd"] = rule.feedback
                rules["autograd_items"] = rule.items
            elif isinstance(rule, ForbidCalls):
                rules["forbid"] = rule.feedback
                rules.setdefault("forbid_calls", []).extend(rule.calls)
            elif isinstance(rule, GradientsFlow):
                rules["gradients"] = rule.feedback
                grads_to = list(dict.fromkeys([*grads_to, *rule.to]))
            elif isinstance(rule, StayInTorch):
                rules["gradients"] = rule.feedback
                grads_to = list(dict.fromkeys([*grads_to, *_float_tensor_args(task)]))
            elif isinstance(rule, RequireCalls):
                rules["require"] = rule.feedback
                rules.setdefault("require_calls", []).extend(rule.calls)
            elif isinstance(rule, CreatedOn):
                rules["created_on"] = (rule.device, rule.feedback)
            elif isinstance(rule, SharesMemory):
                rules["shares"] = (rule.with_, rule.shared, rule.feedback)
            elif isinstance(rule, MaxTorchOps):
                rules["max_ops"] = (rule.limit, rule.count, rule.feedback)
        values_on = [d for d in devices if d != "meta" and (task.values_on is None or d in task.values_on)]
        spec = TaskSpec(
            name=task.name, kind=task.kind, points=task.points, devices=devices, values_on=values_on,
            tol=Tolerance(task.rtol, task.atol), rules=rules,
            check_inputs=task.check_inputs_unchanged, check_repeat=task.check_repeatable, grads_to=grads_to,
            modifies=tuple(task.modifies), grad_flags=task.check_grad_flags, result_device=task.result_device,
            answer_form=task.answer_form, wrong_answer=task.wrong_answer, meta_cases=task.meta_cases,
        )
        cases = [
            case_args(case, seed=seed_for(ex_id, task.name, i, opts.student or ""), student=opts.student)
            for i, case in enumerate(task.cases)
        ]
        available: list[list[str] | None] = [list(case.available) if case.available is not None else None
                                             for case in task.cases]
        timeout = opts.timeout or task.timeout or default_timeout
        planned.append(PlannedTask(task, spec, cases, timeout, available))
    return planned


def build_job(planned: list[PlannedTask], source: str, filename: str) -> dict[str, Any]:
    """The plain-data job for the child: inputs only, never references."""
    return {
        "source": source,
        "filename": filename,
        "module": Path(filename).stem,
        "tasks": [
            {
                "name": p.task.name, "kind": p.task.kind, "devices": p.spec.devices,
                "cases": [{"args": args, "available": avail} for args, avail in zip(p.cases, p.available, strict=True)]
                if p.task.kind == "function" else [],
                "case_count": {d: p.spec.case_count(d, len(p.cases)) for d in p.spec.devices},
                "repeat_on": [d for d in p.spec.devices if p.spec.repeats_on(d)],
                "autograd": "autograd" in p.spec.rules, "autograd_items": p.spec.rules.get("autograd_items"),
                "forbid": p.spec.rules.get("forbid_calls", []), "grads_to": p.spec.grads_to,
                "require": p.spec.rules.get("require_calls", []), "count_ops": "max_ops" in p.spec.rules,
                "created_on": "created_on" in p.spec.rules,
                "shares": p.spec.rules["shares"][0] if "shares" in p.spec.rules else None,
                "forbid_ops": forbidden_ops(p.spec.rules.get("forbid_calls", [])),
            }
            for p in planned
        ],
    }


def _cpu_args(args: dict[str, Any], grads_to: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in args.items():
        if isinstance(value, torch.Tensor):
            out[name] = value.detach().clone().requires_grad_(value.requires_grad or name in grads_to)
        elif is_numpy_marker(value):
            out[name] = numpy_of(value)
        elif value == DEVICE:
            out[name] = "cpu"
        else:
            out[name] = value
    return out


def references(solution: types.ModuleType, p: PlannedTask, ex_id: str) -> list[CaseRef]:
    """Run the reference solution on CPU for every case of one task."""
    fn_name = p.task.reference or p.task.name
    fn = getattr(solution, fn_name, None)
    if fn is None or not callable(fn):
        raise SolutionError(f"solutions/{ex_id}.py: no function '{fn_name}' for task {p.task.name}")
    refs = []
    for i, (args, available) in enumerate(zip(p.cases, p.available, strict=True)):
        cpu_args = _cpu_args(args, p.spec.grads_to)
        try:
            torch.manual_seed(0)
            with PretendAvailable(available):
                expected = fn(**cpu_args)
            grads: dict[str, torch.Tensor | None] | None = None
            if p.spec.grads_to and isinstance(expected, torch.Tensor):
                leaves = [cpu_args[n] for n in p.spec.grads_to]
                got = torch.autograd.grad(expected.sum(), leaves, allow_unused=True)
                grads = dict(zip(p.spec.grads_to, got, strict=True))
        except Exception as exc:
            raise SolutionError(f"solutions/{ex_id}.py: {fn_name} raised {type(exc).__name__}: {exc} "
                                f"on case {i + 1} of task {p.task.name}") from None
        flags = grad_flags(expected) if p.spec.grad_flags else None
        after = {n: cpu_args[n].detach().clone() for n in p.spec.modifies if isinstance(cpu_args.get(n), torch.Tensor)}
        after.update({n: torch.from_numpy(cpu_args[n].copy()) for n in p.spec.modifies
                      if is_numpy_marker(args.get(n))})
        expected = _detach_all(expected)
        label = ", ".join(f"{k}={describe(v)}" for k, v in args.items()) or "no arguments"
        if available is not None:
            label += f"; as if the machine had {' and '.join(available) or 'neither cuda nor mps'}"
        refs.append(CaseRef(args=args, expected=expected, label=label, grads=grads, after=after, flags=flags,
                            hidden=p.task.cases[i].hidden))
    return refs


def _detach_all(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, tuple):
        return tuple(_detach_all(v) for v in value)
    if isinstance(value, list):
        return [_detach_all(v) for v in value]
    return value


def limits_for(course: CourseDir, planned: list[PlannedTask]) -> boundary.Limits:
    d = course.course.defaults
    return boundary.Limits(task_timeout=[p.timeout for p in planned], import_timeout=d.import_timeout,
                         memory_mb=d.memory_mb, output_limit=d.output_limit, result_mb=d.result_mb,
                         cuda=any("cuda" in p.spec.devices for p in planned))


def _import_feedback(run: boundary.TaskRun) -> str:
    if run.status == "import_timeout":
        return f"{run.detail}; does your file run an endless loop at the top level?"
    exc = (run.result or {}).get("exception") if isinstance(run.result, dict) else None
    if isinstance(exc, dict):
        text = f"{exc.get('type', 'Exception')}: {exc.get('message', '')}"
        tb = str(exc.get("traceback", "")).rstrip()
        return f"your file could not be loaded: {text}" + (f"\n{tb}" if tb else "")
    return f"your file could not be loaded: {run.detail}"


_REFERENCES: OrderedDict[tuple[Any, ...], dict[int, list[CaseRef]]] = OrderedDict()
_REFERENCES_KEPT = 256


def _reference_key(course: CourseDir, ex_id: str, opts: GradeOptions) -> tuple[Any, ...]:
    """References depend on the exercise, its solution and the options (the student's variant);
    a warm process (batch worker, `grade watch`) computes them once per key."""
    def stamp(path: Path) -> int:
        try:
            return path.stat().st_mtime_ns
        except OSError:
            return 0

    return (str(course.root), ex_id, stamp(course.exercise_file(ex_id)), stamp(course.solution_file(ex_id)), opts)


def _remember_references(key: tuple[Any, ...], refs: dict[int, list[CaseRef]]) -> None:
    _REFERENCES[key] = refs
    _REFERENCES.move_to_end(key)
    while len(_REFERENCES) > _REFERENCES_KEPT:
        _REFERENCES.popitem(last=False)


def grade_source(course: CourseDir, ex_id: str, source: str, filename: str,
                 opts: GradeOptions = GradeOptions(), launcher: boundary.Launcher | None = None) -> ExerciseReport:
    """Grade one submission's source text; the pipeline, in order."""
    started = time.monotonic()
    exercise = course.exercise(ex_id)
    planned = plan(course, ex_id, exercise, opts)
    # quiz answers are read from the source here; only the functions run in the child
    answers = read_answers(source, [p.task.name for p in planned if p.task.kind == "answer"])
    called = [p for p in planned if p.task.kind != "answer"]
    job = build_job(called, source, filename)
    key = _reference_key(course, ex_id, opts)
    cached = _REFERENCES.get(key)
    refs: dict[int, list[CaseRef]] = cached if cached is not None else {}

    def compute_references() -> None:
        solution = load_solution(course, ex_id)
        for i, p in enumerate(planned):
            refs[i] = references(solution, p, ex_id)
        _remember_references(key, refs)

    outcome = boundary.run(job, limits_for(course, called), launcher,
                         while_waiting=None if cached is not None else compute_references)
    if cached is None and len(refs) < len(planned):  # no child started (a quiz only)
        compute_references()
    child_runs = iter(outcome.tasks)
    runs = [boundary.TaskRun("done", answers[p.task.name]) if p.task.kind == "answer" else next(child_runs)
            for p in planned]
    results = []
    for i, (p, run) in enumerate(zip(planned, runs, strict=True)):
        if run.status in ("import_error", "import_timeout") or (run.status == "crashed" and run.result is None
                                                              and outcome.import_exception is not None):
            status = "timeout" if run.status == "import_timeout" else "error"
            results.append(TaskResult(p.task.name, 0.0, p.task.points, status, _import_feedback(run),
                                      {d: status for d in p.spec.devices}))
            continue
        try:
            judgement = judge_task(p.spec, refs.get(i, []), run.status, run.result, run.detail)
        except Exception as exc:  # noqa: BLE001 - one task's data never stops the judging of the others
            judgement = Judgement("error", f"the grader could not judge what your code returned "
                                           f"({type(exc).__name__})", {d: "error" for d in p.spec.devices})
        score = p.task.points if judgement.status == "passed" else 0.0
        results.append(TaskResult(p.task.name, score, p.task.points, judgement.status, judgement.feedback,
                                  judgement.devices, run.seconds, judgement.hidden))
    return ExerciseReport(exercise=ex_id, title=exercise.title, tasks=tuple(results), output=outcome.output,
                          isolation=outcome.isolation, seconds=time.monotonic() - started, student=opts.student,
                          limits=outcome.limits,
                          flags=scan(source))


def grade_file(course: CourseDir, ex_id: str, path: Path, opts: GradeOptions = GradeOptions(),
               launcher: boundary.Launcher | None = None) -> ExerciseReport:
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the submission ({exc.strerror})") from None
    return grade_source(course, ex_id, source, path.name, opts, launcher)


def _without_grader_imports(source: str) -> str:
    """The solution without its top-level imports of the grader's quiz helpers: they
    compute the answer keys in the grader's process, and graded code may not import the
    grader (a submission's answers are literals, which the reference's become below)."""
    lines = source.splitlines()
    for stmt in ast.parse(source).body:
        module = stmt.module if isinstance(stmt, ast.ImportFrom) else \
            stmt.names[0].name if isinstance(stmt, ast.Import) else None
        if module is not None and (module == "grader" or module.startswith("grader.")):
            for i in range(stmt.lineno - 1, stmt.end_lineno or stmt.lineno):
                lines[i] = "# (the grader's quiz helpers: answer keys, not graded code)" if i == stmt.lineno - 1 else ""
    return "\n".join(lines) + "\n"


def reference_submission(course: CourseDir, ex_id: str, opts: GradeOptions = GradeOptions()) -> str:
    """The reference solution as a student would submit it: the solution file,
    plus each answer task's variable set to the reference's live answer."""
    source = course.solution_file(ex_id).read_text(encoding="utf-8")
    exercise = course.exercise(ex_id)
    answers = [p for p in plan(course, ex_id, exercise, opts) if p.task.kind == "answer"]
    if not answers:
        return source
    source = _without_grader_imports(source)
    solution = load_solution(course, ex_id)
    lines = [source.rstrip(), ""]
    if opts.student:
        from grader.render import VARIANT_HEADER

        lines.append(f"{VARIANT_HEADER}{opts.student}")
    lines.append("# answers computed by the reference solution")
    for p in answers:
        value = references(solution, p, ex_id)[0].expected
        lines.append(f"{p.task.name} = {value!r}")
    return "\n".join(lines) + "\n"
