"""What the child may tell the grader: one exact schema per message kind.

The child runs student code, so every frame it sends is decoded strictly
(`wire.unpack`: text as Unicode scalar values, tensors tiling the frame, a byte
budget per job) and then checked here against the schema of its kind before
the runner or the verdict code reads a single field: exact keys, types, ranges
and lengths, and tensors that are what their description says. What passes
is a fresh copy holding only those fields; anything else is a `FrameError`
whose message says which field was wrong (the runner makes it that task's
error). The schemas mirror what `child.py` sends; a field added there must be
added here too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from grader.boundary import wire
from grader.boundary.wire import FrameError

Check = Callable[[Any, str], Any]
"""Validates one value at a path (for the message) and returns the copy to keep."""

MAX_NAME = 100_000
"""Type and qualified names: the child does not shorten a class's name (feedback does)."""
MAX_DEPTH = 16
"""Nesting of an encoded value (the child stops at 8)."""
MAX_ITEMS = 10_000
"""Items of an encoded sequence (as the child's encoder)."""
MAX_CASES = 10_000
MAX_FIELDS = 256
"""Entries of a dict keyed by names (devices, arguments)."""


def _fail(path: str, what: str) -> FrameError:
    return FrameError(f"{path}: {what}")


def _shown(key: str) -> str:
    return repr(key[:40] + ("..." if len(key) > 40 else ""))


def text(max_len: int) -> Check:
    def check(value: Any, path: str) -> str:
        if type(value) is not str:
            raise _fail(path, "expected text")
        if len(value) > max_len:
            raise _fail(path, f"text longer than {max_len} characters")
        return value
    return check


def choice(*allowed: str) -> Check:
    def check(value: Any, path: str) -> str:
        if type(value) is not str or value not in allowed:
            raise _fail(path, f"expected one of {', '.join(allowed)}")
        return value
    return check


def boolean(value: Any, path: str) -> bool:
    if type(value) is not bool:
        raise _fail(path, "expected true or false")
    return value


def count(value: Any, path: str) -> int:
    if type(value) is not int or value < 0:
        raise _fail(path, "expected a whole number >= 0")
    return value


def index(size: int) -> Check:
    def check(value: Any, path: str) -> int:
        if type(value) is not int or not 0 <= value < size:
            raise _fail(path, f"expected a task number from 0 to {size - 1}")
        return value
    return check


def optional(inner: Check) -> Check:
    def check(value: Any, path: str) -> Any:
        return None if value is None else inner(value, path)
    return check


def list_of(item: Check, max_len: int) -> Check:
    def check(value: Any, path: str) -> list[Any]:
        if type(value) is not list:
            raise _fail(path, "expected a list")
        if len(value) > max_len:
            raise _fail(path, f"more than {max_len} items")
        return [item(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return check


def dict_of(item: Check, max_len: int = MAX_FIELDS) -> Check:
    """A dict with names (text) as keys."""
    def check(value: Any, path: str) -> dict[str, Any]:
        if type(value) is not dict:
            raise _fail(path, "expected a mapping")
        if len(value) > max_len:
            raise _fail(path, f"more than {max_len} entries")
        out = {}
        for k, v in value.items():
            if len(k) > 200:
                raise _fail(path, "a name longer than 200 characters")
            out[k] = item(v, f"{path}[{_shown(k)}]")
        return out
    return check


def record(required: dict[str, Check], optional_fields: dict[str, Check] | None = None) -> Check:
    """A dict with exactly these keys (the optional ones may be absent)."""
    extra = optional_fields or {}

    def check(value: Any, path: str) -> dict[str, Any]:
        if type(value) is not dict:
            raise _fail(path, "expected a mapping")
        unknown = [k for k in value if k not in required and k not in extra]
        if unknown:
            raise _fail(path, f"unexpected field {_shown(unknown[0])}")
        missing = [k for k in required if k not in value]
        if missing:
            raise _fail(path, f"missing field {missing[0]!r}")
        return {k: (required.get(k) or extra[k])(v, f"{path}.{k}") for k, v in value.items()}
    return check


# ---------------------------------------------------------------- values the child encoded (child.encode)

def _shape(value: Any, path: str) -> list[int]:
    if type(value) is not list or len(value) > 32 or not all(type(d) is int and 0 <= d <= wire.MAX_ELEMENTS
                                                             for d in value):
        raise _fail(path, "expected a shape: at most 32 whole numbers >= 0")
    return list(value)


_TENSOR = record({"kind": choice("tensor"), "shape": _shape, "dtype": text(64), "device": text(64),
                  "requires_grad": boolean, "has_grad_fn": boolean, "value": lambda v, p: v},
                 {"too_large": boolean})
_OTHER = record({"kind": choice("other"), "type": text(MAX_NAME)}, {"tensor_subclass": boolean})
_DTYPE = record({"kind": choice("dtype"), "value": text(64)})


def _plain(value: Any, path: str) -> Any:
    if value is None or type(value) in (bool, int, float):
        return value  # any int and any float, inf and nan included: judging is total (compare.py)
    return text(MAX_ITEMS)(value, path)


_PY = record({"kind": choice("py"), "value": _plain})


def encoded(value: Any, path: str, depth: int = 0) -> dict[str, Any]:
    """One value as `child.encode` describes it."""
    if depth > MAX_DEPTH:
        raise _fail(path, "nested too deeply")
    kind = value.get("kind") if type(value) is dict else None
    if kind == "tensor":
        out = _TENSOR(value, path)
        tensor = out["value"]
        if tensor is not None:
            if type(tensor) is not torch.Tensor:
                raise _fail(f"{path}.value", "expected a tensor or null")
            if list(tensor.shape) != out["shape"] or str(tensor.dtype).removeprefix("torch.") != out["dtype"]:
                raise _fail(f"{path}.value", "the tensor's shape or dtype is not the one described")
        return out
    if kind == "seq":
        seq = record({"kind": choice("seq"), "type": text(MAX_NAME), "items": lambda v, p: v})(value, path)
        seq["items"] = list_of(lambda v, p: encoded(v, p, depth + 1), MAX_ITEMS)(seq["items"], f"{path}.items")
        return seq
    checks = {"other": _OTHER, "py": _PY, "dtype": _DTYPE}
    if kind not in checks:
        raise _fail(path, "expected an encoded value (kind tensor, seq, py, dtype or other)")
    return checks[kind](value, path)


# ---------------------------------------------------------------- results of a task

EXCEPTION = record({"type": text(200), "message": text(2000), "traceback": text(4000), "not_implemented": boolean})
"""child._describe_exception"""

CALL = record({"status": choice("ok", "error")}, {
    "autograd": boolean, "forbidden": list_of(text(500), 100), "tampered": text(2000),
    "exception": EXCEPTION, "output": encoded, "grads": dict_of(optional(encoded)), "grads_error": text(2000),
    "inputs_after": dict_of(encoded), "second": optional(encoded), "shares": optional(boolean),
    "ops": count, "writes": count, "created": list_of(text(64), 16), "required": list_of(text(500), 100)})
"""One call of the student's function (child._run_function_task)."""

RESULTS: dict[str, Check] = {
    "missing": record({"missing": text(MAX_NAME)}),
    "answer": record({"answer": encoded}),
    "devices": record({"devices": dict_of(list_of(CALL, MAX_CASES), 16)}),
}
"""A task's result, by its one key: why there is none, a quiz answer, or the calls on each device."""


def task_result(value: Any, path: str) -> dict[str, Any]:
    check = RESULTS.get(next(iter(value))) if type(value) is dict and len(value) == 1 else None
    if check is None:
        raise _fail(path, f"expected exactly one of {', '.join(RESULTS)}")
    return check(value, path)


# ---------------------------------------------------------------- messages

SEAL = {"seal": text(200)}
"""Every message carries the job's seal (child._Channel); the runner compares it after this check."""


def events(tasks: int) -> dict[str, Check]:
    """The schema of each message kind, for a job of `tasks` tasks."""
    return {
        "loaded": record({"event": choice("loaded")}, SEAL),
        "start": record({"event": choice("start"), "task": index(tasks)}, SEAL),
        "done": record({"event": choice("done"), "task": index(tasks), "result": task_result}, SEAL),
        "finished": record({"event": choice("finished")}, SEAL),
        "import_error": record({"event": choice("import_error"), "exception": EXCEPTION}, SEAL),
        "harness_error": record({"event": choice("harness_error"), "message": text(4000)}, SEAL),
        "unavailable": record({"event": choice("unavailable"), "message": text(4000)}, SEAL),
    }


def read(payload: bytes, tasks: int, budget: wire.Budget | None = None) -> dict[str, Any]:
    """One frame from the child, decoded and checked; raises FrameError, and nothing else."""
    try:
        message = wire.unpack(payload, budget=budget)
        kind = message.get("event") if type(message) is dict else None
        schema = events(tasks).get(kind) if type(kind) is str else None
        if schema is None:
            raise FrameError("not a message the grader's harness sends")
        checked: dict[str, Any] = schema(message, "message")
        return checked
    except FrameError:
        raise
    except (RecursionError, MemoryError):
        raise FrameError("a message too large or too deeply nested to read") from None
