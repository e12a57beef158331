"""Keeps the harness out of the submission's reach, inside the child.

Design (each part covers what the others cannot):

- **Student code never runs on the harness's thread.** The import and every call run
  on a thread of their own, started by `_thread.start_new_thread` on a trampoline
  whose globals hold only builtins: the submission's stack ends there, so no frame it
  can walk (`sys._getframe`, tracebacks) leads to the harness's locals, where its
  state lives (the result channel, the profiler's controls, the evidence log).
- **An audit hook (PEP 578, which cannot be removed) refuses, on every thread but the
  harness's:** object enumeration (`gc.get_objects`, `get_referrers`, `get_referents`,
  `sys._current_frames`), tracing and profiling hooks (`sys.settrace`, `setprofile`),
  everything ctypes does (loading libraries, reading addresses, calling functions)
  and importing cffi, crafted bytecode (`code.__new__`, `marshal.loads` other than the
  import system's), reading
  process memory through `/proc/*/mem`, importing the grader's modules, and the frame
  of the autograd evidence log (`gi_frame`).
- **No grader module stays in `sys.modules`** (nor the launcher's `__main__`): what
  the harness needs is bound before the submission runs.

torch and the standard library keep working: `sys._getframe`, `inspect`, warnings,
tracebacks and TorchScript's source lookup are allowed; they only see the
submission's own frames.
"""

from __future__ import annotations

import _thread
import sys
import types
from time import monotonic as _monotonic
from time import sleep as _sleep
from typing import Any

_REFUSED_EVENTS = frozenset({
    "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames", "sys.settrace",
    "sys.setprofile", "code.__new__", "sys._getframemodulename",
    "cpython.remote_debugger_script",
})
_REFUSED_IMPORTS = ("ctypes", "_ctypes", "cffi", "_cffi_backend", "grader")
_FRAME_ATTRIBUTES = frozenset({"gi_frame", "gi_yieldfrom", "gi_code"})

_TRAMPOLINE_SOURCE = """
def trampoline(fn, args, kwargs, out, done, gone, ends):
    ends.append(gone())
    try:
        out.append((True, fn(*args, **kwargs)))
    except BaseException as exc:
        out.append((False, exc))
    finally:
        done.release()
"""


class Refused(PermissionError):
    """What the audit hook raises: the submission reached for the grader's machinery."""


def install(protected: tuple[Any, ...]) -> None:
    """Add the audit hook; `protected` are objects (the evidence log's generator) whose
    frames no submission thread may read. Called once, before any student code."""
    main = _thread.get_ident()
    get_ident = _thread.get_ident
    refused, imports, attributes = _REFUSED_EVENTS, _REFUSED_IMPORTS, _FRAME_ATTRIBUTES
    keep = tuple(protected)
    from importlib import _bootstrap_external

    importing = _bootstrap_external._compile_bytecode.__code__  # type: ignore[attr-defined] # may unmarshal
    caller = sys._getframe

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if get_ident() == main:
            return
        if event in refused or event.startswith("ctypes."):
            raise Refused(f"{event} is not allowed in graded code")
        if event in ("marshal.loads", "marshal.load") and caller(1).f_code is not importing:
            raise Refused(f"{event} is not allowed in graded code (crafted code objects)")
        if event == "import" and args and isinstance(args[0], str) \
                and args[0].split(".")[0] in imports:
            raise Refused(f"importing {args[0]} is not allowed in graded code")
        if event == "open" and args and isinstance(args[0], str) and args[0].startswith("/proc/") \
                and (args[0].endswith("/mem") or "/map_files" in args[0]):
            raise Refused(f"reading {args[0]} is not allowed in graded code")
        if event == "object.__getattr__" and len(args) > 1 and args[1] in attributes \
                and any(args[0] is p for p in keep):
            raise Refused("the grader's evidence log is not open to graded code")

    sys.addaudithook(hook)


_known: tuple[int, tuple[str, ...]] = (-1, ())
"""How many modules `sys.modules` held when the zygote listed the grader's among them."""


def list_grader_modules() -> None:
    """In the zygote, before it forks: list the grader's modules once for every child.
    Walking `sys.modules` in a child touches each of its thousands of names, and every page
    touched is copied from the zygote (about 6 ms and 1,100 page faults a job)."""
    global _known
    if _known[0] == len(sys.modules):
        return
    _known = (len(sys.modules), tuple(n for n in sys.modules if n == "grader" or n.startswith("grader.")))


def hide_modules() -> None:
    """Drop the grader's modules (and the launcher's `__main__`) from `sys.modules`, so that
    nothing the submission imports or rebinds reaches the running harness. The zygote's list
    serves while no module has been imported since; otherwise `sys.modules` is walked."""
    count, names = _known
    if count != len(sys.modules):
        names = tuple(n for n in sys.modules if n == "grader" or n.startswith("grader."))
    for name in names:
        sys.modules.pop(name, None)
    sys.modules["__main__"] = types.ModuleType("__main__")


def quiet_signals() -> None:
    """Signal handlers belong to the harness's (main) thread; a submission's `signal.signal`,
    which Python refuses on other threads, installs nothing and returns the current handler,
    so that a file that sets one still loads (and cannot catch the grader's signals)."""
    import signal

    main = _thread.get_ident()
    get_ident, install, current = _thread.get_ident, signal.signal, signal.getsignal

    def ignored(signalnum: Any, handler: Any) -> Any:
        if get_ident() == main:
            return install(signalnum, handler)
        return current(signalnum)

    signal.signal = ignored


def collect_apart() -> None:
    """No automatic garbage collection, which would run on whichever thread allocates, the
    harness's included, and with it the finalisers (`__del__`) of the submission's cycles;
    `collect` runs it on a submission thread instead. `gc.enable` becomes a no-op."""
    import gc

    gc.disable()
    gc.enable = lambda: None


def collect() -> None:
    import gc

    gc.collect()


def _make_trampoline() -> Any:
    namespace: dict[str, Any] = {"__builtins__": {"BaseException": BaseException, "True": True, "False": False}}
    exec(compile(_TRAMPOLINE_SOURCE, "<submission thread>", "exec"), namespace)  # noqa: S102 - our own constant
    trampoline = namespace["trampoline"]
    namespace.clear()
    namespace["__builtins__"] = {"BaseException": BaseException}
    return trampoline


_TRAMPOLINE = _make_trampoline()
STACK_BYTES = 64 << 20
"""The stack of a submission's thread: deep recursion fails as a RecursionError, not a crash."""


LINGER_S = 0.2
"""How long the harness waits for the submission's threads to end after its call returned."""

_type, _LockType = type, _thread.LockType
_GONE = getattr(_thread, "_set_sentinel", lambda: None)
"""Called first on the submission's thread: a lock that CPython releases once that thread's
state is freed (3.10-3.12; later versions poll). Released early (the submission can reach
it), the harness still counts threads before it goes on."""


def run_apart(fn: Any, *args: Any, **kwargs: Any) -> tuple[bool, Any, bool]:
    """Call `fn` on a fresh thread whose stack leads nowhere: (True, result, lingering) or
    (False, exception, lingering). The trampoline's lock can be released early by the
    submission, so the harness also waits (up to LINGER_S in all) for the thread itself
    to be gone, then until no thread of the submission is left; `lingering` says that
    some still ran after that."""
    out: list[tuple[bool, Any]] = []
    ends: list[Any] = []
    done = _thread.allocate_lock()
    done.acquire()
    baseline = _thread._count()
    previous = _thread.stack_size()
    try:
        _thread.stack_size(STACK_BYTES)
    except (ValueError, RuntimeError):
        pass
    try:
        _thread.start_new_thread(_TRAMPOLINE, (fn, args, kwargs, out, done, _GONE, ends))
    finally:
        try:
            _thread.stack_size(previous)
        except (ValueError, RuntimeError):
            pass
    done.acquire()
    deadline = _monotonic() + LINGER_S
    gone: Any = ends[0] if ends else None  # the submission can reach both lists: only exact types are used
    if _type(gone) is _LockType:  # wakes as the thread's state is freed: no polling in the common case
        gone.acquire(True, LINGER_S)
    lingering = _wait_for_threads(baseline, deadline)
    pair: Any = out[-1] if out else None  # the trampoline's own, appended last
    if _type(pair) is not tuple or len(pair) != 2 or _type(pair[0]) is not bool:
        return False, RuntimeError("the call ended without a result of its own"), lingering
    ok, value = pair
    return ok, value, lingering


def _wait_for_threads(baseline: int, deadline: float) -> bool:
    delay = 0.0001
    while _thread._count() > baseline:
        if _monotonic() > deadline:
            return True
        _sleep(delay)
        delay = min(delay * 2, 0.01)
    return False
