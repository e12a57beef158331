"""Checks that run inside a student's Jupyter kernel: the test cells of the nbgrader notebooks.

A test cell written by `grade render --nbgrader` calls `check(name, data)`.
`data` holds the cases' inputs and the reference results, computed by the
instructor's grader when the notebook was rendered, so the student's kernel
never needs the reference solution or the course files. The student's function
is called the way the isolated child calls it (`grader.boundary.child`), on every device
this kernel has, and judged by the same code as `grade` (`grader.compare`):
a failing check raises `CheckFailed` with `grade`'s feedback.

This runs in the student's own kernel, so it is only as trustworthy as that
kernel: code in another cell can patch anything here. `grade batch --nbgrader`
is the trusted path (the student's code runs in an isolated child).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import io
import os
import re
import sys
import types
import warnings
import zlib
from collections.abc import Iterator
from typing import Any

import torch

from grader.boundary import child
from grader.compare import (
    ANSWER,
    NOT_IMPLEMENTED,
    CaseRef,
    TaskSpec,
    Tolerance,
    judge_task,
    normalize_answer,
    normalize_value_answer,
)

PAYLOAD_FORMAT = 1
OUTPUT_LIMIT = 4000
_CASE_NUMBER = re.compile(r"^(\[[^\]]*\] on \S+, case )(\d+)( \()")


class CheckFailed(AssertionError):
    """A task failed the grader's checks; the message is the feedback `grade` gives."""

    def _render_traceback_(self) -> list[str]:
        """IPython shows this instead of a traceback: the feedback, not the test cell's data
        and the grader's frames (nbgrader keeps it as the cell's error output)."""
        return [f"\x1b[0;31mCheckFailed\x1b[0m: {self}"]


# ---------------------------------------------------------------- payloads

def encode_payload(payload: dict[str, Any]) -> str:
    """Plain data and tensors -> one line of text for a test cell (torch.save, zlib, base64).
    One line, so that a test cell reads as a few lines in Jupyter and in `nbgrader validate`."""
    buf = io.BytesIO()
    torch.save(payload, buf)
    return base64.b64encode(zlib.compress(buf.getvalue(), 9)).decode("ascii")


def decode_payload(text: str) -> dict[str, Any]:
    """The inverse of `encode_payload`; loads tensors with `weights_only=True` (data, never code)."""
    try:
        raw = zlib.decompress(base64.b64decode("".join(text.split())))
        payload = torch.load(io.BytesIO(raw), weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - any corruption means the same thing
        raise ValueError(f"the data of this test cell is damaged ({type(exc).__name__}); "
                         "restore the cell from the released notebook") from None
    if not isinstance(payload, dict) or payload.get("format") != PAYLOAD_FORMAT:
        raise ValueError("this test cell was written by another version of the grader; "
                         "install the course's version of the grader package")
    return payload


# ---------------------------------------------------------------- the kernel's side

def kernel_devices() -> tuple[str, ...]:
    """Devices this kernel can check, in `grade`'s order (cpu, cuda, mps, meta)."""
    from grader.grading import available_devices

    return available_devices()


@contextlib.contextmanager
def _kernel_state() -> Iterator[None]:
    """The child resets torch's global settings before each call; give the kernel its own back."""
    threads = torch.get_num_threads()
    dtype = torch.get_default_dtype()
    grad = torch.is_grad_enabled()
    deterministic = torch._C._get_deterministic_algorithms()
    warn_only = torch._C._get_deterministic_algorithms_warn_only()
    rng = torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    try:
        yield
    finally:
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)
        torch.set_num_threads(threads)
        torch.set_default_dtype(dtype)
        torch.set_grad_enabled(grad)
        torch._C._set_deterministic_algorithms(deterministic, warn_only=warn_only)  # the public setter imports inductor
        torch.set_rng_state(rng)


@contextlib.contextmanager
def _captured(sink: io.StringIO) -> Iterator[None]:
    """Prints and warnings of the student's code go to `sink`: nbgrader scores a test cell
    that writes to stderr as failed, and the grader's verdict must not depend on that."""
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(sink), \
            contextlib.redirect_stderr(sink):
        warnings.simplefilter("always")
        yield
    for w in caught:
        sink.write(f"{w.category.__name__}: {w.message}\n")


def spec_payload(spec: TaskSpec) -> dict[str, Any]:
    """Every field of the task's spec, as plain data (the kernel rebuilds it for its devices)."""
    data = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}
    data["tol"] = {"rtol": spec.tol.rtol, "atol": spec.tol.atol}
    return data


def refs_payload(refs: list[CaseRef]) -> list[dict[str, Any]]:
    """The reference results of some cases (their inputs travel in the job)."""
    return [{f.name: getattr(ref, f.name) for f in dataclasses.fields(ref) if f.name != "args"} for ref in refs]


def _spec(payload: dict[str, Any], available: tuple[str, ...]) -> TaskSpec:
    """The spec `grade` would plan on this kernel's devices: the task's devices that are here."""
    s = dict(payload["spec"])
    devices = [d for d in s["devices"] if d in available] or ["cpu"]
    s.update(devices=devices, values_on=[d for d in s["values_on"] if d in devices], tol=Tolerance(**s["tol"]))
    try:
        return TaskSpec(**s)
    except TypeError:
        raise ValueError("this test cell was written by another version of the grader; "
                         "install the course's version of the grader package") from None


def _renumber(feedback: str, numbers: list[int]) -> str:
    """`judge_task` counts the cases it was given; name them as `grade` does, by their place in the YAML."""
    def repl(m: re.Match[str]) -> str:
        i = int(m.group(2)) - 1
        return f"{m.group(1)}{numbers[i] if 0 <= i < len(numbers) else m.group(2)}{m.group(3)}"
    return _CASE_NUMBER.sub(repl, feedback, count=1)


def _answer_form(spec: TaskSpec, namespace: dict[str, Any]) -> str:
    """The visible check of a quiz answer: its form only (the right answer is in the hidden check)."""
    if spec.name not in namespace:
        return f"[{NOT_IMPLEMENTED}] {spec.name} is not defined yet: run the cell with your answer first"
    normalize = normalize_value_answer if spec.answer_form == "value" else normalize_answer
    _, problem = normalize(child.encode(namespace[spec.name]))
    if not problem:
        return ""
    rule = NOT_IMPLEMENTED if problem.startswith("not answered") else ANSWER
    return f"[{rule}] {problem}"


def run_task(payload: dict[str, Any], namespace: dict[str, Any],
             available: tuple[str, ...] | None = None) -> tuple[str, str, list[str], str]:
    """Judge the task of `payload` against the names in `namespace`.

    Returns (status, feedback, devices checked, what the student's code printed).
    """
    name = payload["task"]
    spec = _spec(payload, available or kernel_devices())
    printed = io.StringIO()
    module = types.ModuleType("notebook")  # the one name the task checks, as the child's module has it
    if name in namespace:
        setattr(module, name, namespace[name])
    if payload["kind"] == "answer":
        if not payload["refs"]:
            feedback = _answer_form(spec, namespace)
            return ("failed" if feedback else "passed"), feedback, ["cpu"], ""
        result = child._run_answer_task(module, payload["job"])
    else:
        code = getattr(namespace.get(name), "__code__", None)
        filename = getattr(code, "co_filename", "<notebook>")
        job_task = dict(payload["job"], devices=spec.devices)
        with _kernel_state(), _captured(printed):
            result = child._run_function_task(module, job_task, filename)
    cases = payload["job"]["cases"]
    refs = [CaseRef(args=cases[i]["args"] if i < len(cases) else {}, **ref) for i, ref in enumerate(payload["refs"])]
    judgement = judge_task(spec, refs, "done", result, "")
    return judgement.status, _renumber(judgement.feedback, payload["numbers"]), spec.devices, printed.getvalue()


def check(name: str, data: str, *, hidden: bool = False) -> None:
    """Check the function or answer `name` of the calling notebook; raise `CheckFailed` with
    `grade`'s feedback when a check fails. `hidden` marks the check of every case (graded copy)."""
    # The checks on `meta` would otherwise import torch._dynamo (2+ s) in the first test cell;
    # the child's stand-in loads the real module as soon as anything (torch.compile) needs it.
    child._install_lazy_modules()
    payload = decode_payload(data)
    if payload.get("task") != name:
        raise ValueError(f"this test cell checks {payload.get('task')!r}, not {name!r}; "
                         "restore the cell from the released notebook")
    namespace = sys._getframe(1).f_globals
    status, feedback, devices, printed = run_task(payload, namespace)
    if printed:
        cut = printed if len(printed) <= OUTPUT_LIMIT else \
            printed[:OUTPUT_LIMIT] + f"\n... [output truncated: {len(printed) - OUTPUT_LIMIT} more characters] ..."
        print(f"your code printed:\n{cut}")
    if status != "passed":
        raise CheckFailed(feedback or status)
    n = len(payload["refs"])
    if payload["kind"] == "answer" and not n:
        print(f"✔ {name} has the form of an answer; it is compared with the right one when your work is graded")
    elif hidden:
        print(f"✔ {name}: all {n} cases passed on {', '.join(devices)}")
    else:
        more = "" if os.environ.get("NBGRADER_EXECUTION") else "; more cases are checked when your work is graded"
        print(f"✔ {name}: {n} visible case{'s' if n != 1 else ''} passed on {', '.join(devices)}{more}")
