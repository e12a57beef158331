"""The trust boundary: everything that starts, confines, talks to and ends the child
process in which a submission runs. Review it here, in one sitting; nothing outside
this package runs student code.

Guarantees (the README's trust model says which hold in which isolation mode):

1. **Student code runs only in a child**, forked for one job from a warm zygote that was
   started as a fresh interpreter before any reference solution was loaded or computed
   (`zygote.py`): no child can find a reference or a hidden expected value in its memory.
2. **Each job has walls of its own** (`jail.py`, `confine.py`): its own PID, IPC, mount
   and network namespaces where the machine allows them, a private /tmp, an unused uid
   (never uid 0, no capabilities, never reused while a sandbox lives), a seccomp filter,
   and memory/process limits for the whole job (a cgroup v2 where one can be made, else
   resource limits per process). Where none of that can be promised it refuses (exit 2)
   unless told `GRADER_ISOLATION=none`, which every report then says.
3. **Inside the child, the harness is out of the submission's reach** (`child.py`,
   `shield.py`, `observe.py`): student code runs on its own thread under an audit hook
   that refuses object enumeration, tracing, ctypes, crafted bytecode and the grader's
   modules; the rule observers record what happened at torch's dispatcher and in the
   autograd engine.
4. **The child speaks data, checked at the boundary** (`wire.py`, `messages.py`): JSON and
   raw tensor bytes, never pickle; every message is validated against its schema, sealed
   with a per-job secret, bounded in size, before anything in the grader uses it.
5. **Time and failure are the runner's** (`runner.py`): deadlines per task and per job, a
   fresh child after a task kills or hangs its own, a job whose zygote dies under it run
   again once (then `grader_error`), output captured and capped.

The API, small on purpose: `run(job, limits, launcher)` -> `RunOutcome`, `Limits`,
`TaskRun`, `applied_limits`; launchers from `default_launcher()`, `shared_launcher()`,
`prestart()` (start the sandbox before importing torch), `SandboxLauncher`,
`ForkLauncher`, `SandboxError`; and `encode` (the child's value encoding, which the quiz
answers share). Names load lazily, so that `prestart` runs before torch is imported.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names, for type checkers; at run time they load on first use
    from grader.boundary.child import PretendAvailable, encode
    from grader.boundary.jail import Limits
    from grader.boundary.runner import Launcher, RunOutcome, TaskRun, applied_limits, run
    from grader.boundary.sandbox import (
        ForkLauncher,
        SandboxError,
        SandboxLauncher,
        default_launcher,
        prestart,
        shared_launcher,
    )

_API = {
    "run": "runner", "RunOutcome": "runner", "TaskRun": "runner", "Launcher": "runner",
    "applied_limits": "runner", "Limits": "jail",
    "default_launcher": "sandbox", "shared_launcher": "sandbox", "prestart": "sandbox",
    "SandboxLauncher": "sandbox", "ForkLauncher": "sandbox", "SandboxError": "sandbox",
    "encode": "child", "PretendAvailable": "child",
}
__all__ = ["ForkLauncher", "Launcher", "Limits", "PretendAvailable", "RunOutcome", "SandboxError",
           "SandboxLauncher", "TaskRun", "applied_limits", "default_launcher", "encode", "prestart", "run",
           "shared_launcher"]
assert sorted(__all__) == sorted(_API)


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
