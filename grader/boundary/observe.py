"""How the child observes the rules: torch's own machinery, out of the submission's reach.

- **Forbidden calls** are read from torch's profiler, which records every op at the
  dispatcher (a C++ RecordFunction callback), for every thread (`profile_all_threads`),
  inside TorchScript, `torch.library` custom ops and `autograd.Function`, whatever
  Python did (`DisableTorchFunction`, a popped mode stack, a rebound module). The
  functions that control the profiler are taken out of torch's namespaces before any
  student code runs and live only in the harness's locals (`ProfilerControl`), so
  the submission can neither stop nor restart the recording.
- **"Use autograd"** is evidence from the autograd engine itself: every backward and
  `torch.autograd.grad` (and so `torch.func`, which calls it) goes through
  `Variable._execution_engine.run_backward`. A stand-in engine forwards each call to
  the real one and records, as immutable bytes, what the engine produced for each
  leaf or input together with that leaf's values. The record lives in the frame of a
  suspended generator (`_engine_log`): Python cannot write a frame's locals (the
  audit hook refuses `gi_frame`, tracing and ctypes), and the only message that adds
  to it runs the real engine first. A submission that bypasses the stand-in produces
  no evidence and fails the rule: every route around it fails closed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Generator
from typing import Any

import torch

os.environ.setdefault("KINETO_LOG_LEVEL", "6")
"""Read when the profiler first starts: keeps Kineto's `profiler_start`/`profiler_stop` lines
out of the submission's output (and the grader's stderr)."""

_PROFILER_CONTROLS = ("_enable_profiler", "_disable_profiler", "_prepare_profiler", "_enable_profiler_legacy",
                      "_disable_profiler_legacy", "_toggle_collection_dynamic", "_clear_callbacks",
                      "_enable_record_function", "_set_empty_test_observer")
"""Everything in torch._C._autograd that starts, stops, pauses or clears op recording."""
_MAX_NODES = 100_000
_MAX_RECORDS = 64


def _refuse(*_: Any, **__: Any) -> Any:
    raise RuntimeError("torch's profiler is reserved for the grader while your code is graded")


class ProfilerControl:
    """Start and stop op recording for every thread; held only by the harness."""

    def __init__(self) -> None:
        from torch._C import _autograd as autograd
        from torch._C import _profiler as profiler

        self._prepare = autograd._prepare_profiler
        self._enable = autograd._enable_profiler
        self._disable = autograd._disable_profiler
        self._config = profiler.ProfilerConfig(
            profiler.ProfilerState.KINETO, False, False, False, False, False,
            profiler._ExperimentalConfig(profile_all_threads=True), "")
        self._activities = {profiler.ProfilerActivity.CPU}
        self._running = False

    def start(self) -> None:
        self._prepare(self._config, self._activities)
        self._enable(self._config, self._activities)
        self._running = True

    def stop(self) -> set[str] | None:
        """The aten op names recorded since `start`, or None when the recording was lost."""
        if not self._running:
            return None
        self._running = False
        try:
            result = self._disable()
            return {event.name() for event in result.events()}
        except (RuntimeError, AssertionError):  # nothing (left) to stop
            return None


def take_profiler() -> ProfilerControl:
    """Bind the controls, then remove them from every loaded torch namespace (torch's C
    module `torch._C._autograd` included, so that a module imported later copies the
    refusal). The zygote does this once, before it forks any child: each child inherits the
    namespaces without the controls and the zygote's bound copy (passed down the job's own
    stack, `zygote._job_child` to `child.main`), instead of walking every torch module
    again (about 35 ms a job, most of it copying the pages that walk touches)."""
    import torch.autograd.profiler  # noqa: F401 - loaded now, while the names still exist
    import torch.profiler  # noqa: F401

    control = ProfilerControl()
    from torch._C import _autograd as autograd

    originals = {id(getattr(autograd, name)) for name in _PROFILER_CONTROLS if hasattr(autograd, name)}
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "torch" or name.startswith("torch.")):
            continue
        namespace = getattr(module, "__dict__", {})
        for attr, value in list(namespace.items()):
            if id(value) in originals:
                namespace[attr] = _refuse
    return control


# ------------------------------------------------------------------ autograd evidence

def _key(t: torch.Tensor) -> tuple[Any, ...]:
    """An immutable copy of a tensor's facts and values (no values on meta); inside a
    torch.func transform, of the plain tensor under its wrappers."""
    with torch._C._DisableFuncTorch():
        return _plain_key(t)


def _plain_key(t: torch.Tensor) -> tuple[Any, ...]:
    f = torch._C._functorch
    while f.is_functorch_wrapped_tensor(t):
        t = f.get_unwrapped(t)
    t = t.detach()
    shape, dtype, device = tuple(t.shape), str(t.dtype), t.device.type
    if device == "meta" or t.is_sparse or t.is_quantized or t.layout != torch.strided:
        return (shape, dtype, None)
    data = t.to("cpu").contiguous()
    if data.is_complex() or data.dtype in (torch.bfloat16,):
        data = data.to(torch.complex128 if data.is_complex() else torch.float32)
    return (shape, dtype, bytes(data.numpy().tobytes()))


def tensor_key(t: torch.Tensor) -> tuple[Any, ...]:
    """The key `record` gives, for the harness's own tensors (inputs, results)."""
    with torch._C.DisableTorchFunction(), torch._C._DisableTorchDispatch():
        return _key(t)


def _leaves(roots: Any) -> list[torch.Tensor]:
    """The leaves a `.backward()` accumulates into: AccumulateGrad nodes under the roots."""
    found: list[torch.Tensor] = []
    seen: dict[int, Any] = {}  # holds each node: torch may make a node's Python object anew on
    # every access and free it after (2.11 does), and a freed object's id comes back for the next
    stack = [getattr(r, "grad_fn", None) for r in roots if isinstance(r, torch.Tensor)]
    while stack and len(seen) < _MAX_NODES:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen[id(node)] = node
        variable = getattr(node, "variable", None)
        if isinstance(variable, torch.Tensor):
            found.append(variable)
        stack.extend(nxt for nxt, _ in getattr(node, "next_functions", ()))
    return found


def _engine_log(engine: Any) -> Generator[Any, Any, None]:
    """The store of engine evidence: a generator, so the record is a local of its frame.

    Messages: ("run", args, kwargs) runs the real engine and records what it produced;
    ("arm",) / ("take",) start recording / hand over and clear the record. Replies are
    ("ok", value) or ("error", exception type, message): no exception ever leaves this
    frame with a traceback that leads back into it."""
    records: tuple[tuple[Any, Any], ...] = ()
    armed = False
    reply: Any = None
    while True:
        try:
            message: Any = yield reply
        except BaseException:  # noqa: BLE001 - thrown in by someone else: ignored
            reply = ("error", RuntimeError, "the autograd engine is in use")
            continue
        try:
            kind = message[0]
            if kind == "take":
                reply, records, armed = ("ok", records), (), False
                continue
            if kind == "arm":
                reply, records, armed = ("ok", None), (), True
                continue
            args, kwargs = message[1], message[2]
            outputs = args[0] if args else kwargs.get("tensors", ())
            inputs = (args[4] if len(args) > 4 else kwargs.get("inputs", ())) or ()
            accumulate = args[6] if len(args) > 6 else kwargs.get("accumulate_grad", True)
            leaves = list(inputs) if inputs else (_leaves(outputs) if (armed and accumulate) else [])
            value = engine.run_backward(*args, **kwargs)
            if armed:
                pairs = [(leaf, getattr(leaf, "grad", None)) for leaf in leaves] if accumulate \
                    else list(zip(inputs, value, strict=False))
                with torch._C.DisableTorchFunction(), torch._C._DisableTorchDispatch():
                    new = tuple((_key(leaf), _key(grad)) for leaf, grad in pairs
                                if isinstance(leaf, torch.Tensor) and isinstance(grad, torch.Tensor))
                records = (records + new)[-_MAX_RECORDS:]
            reply = ("ok", value)
        except BaseException as exc:  # noqa: BLE001 - the student's graph may raise anything
            reply = ("error", type(exc), str(exc))
            del exc


class _Engine:
    """Stands in for torch's ImperativeEngine: the same calls, recorded by `_engine_log`."""

    __slots__ = ("_real", "_send")

    def __init__(self, real: Any, send: Callable[[Any], Any]) -> None:
        object.__setattr__(self, "_real", real)
        object.__setattr__(self, "_send", send)

    def run_backward(self, *args: Any, **kwargs: Any) -> Any:
        status, *rest = self._send(("run", args, kwargs))
        if status == "ok":
            return rest[0]
        kind, message = rest
        raise (kind if isinstance(kind, type) and issubclass(kind, BaseException) else RuntimeError)(message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class AutogradEvidence:
    """The harness's handle on the engine log: arm it before a call, take it after."""

    def __init__(self) -> None:
        from torch.autograd.variable import Variable

        real = Variable._execution_engine
        if type(real) is _Engine:  # a notebook kernel checked before: wrap torch's engine, not ours
            real = object.__getattribute__(real, "_real")
        log = _engine_log(real)
        next(log)
        self._send = log.send
        self.generator = log
        self.real_run_backward = real.run_backward
        self.engine = _Engine(real, log.send)
        Variable._execution_engine = self.engine  # type: ignore[assignment]

    def arm(self) -> None:
        self._exchange(("arm",))

    def take(self) -> tuple[tuple[Any, Any], ...] | None:
        """What the engine produced since `arm`, or None when the log was broken."""
        reply = self._exchange(("take",))
        return reply[1] if reply and reply[0] == "ok" and isinstance(reply[1], tuple) else None

    def _exchange(self, message: tuple[Any, ...]) -> Any:
        try:
            return self._send(message)
        except BaseException:  # noqa: BLE001 - a closed or busy generator: no evidence
            return None
