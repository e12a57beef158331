"""Runs a submission in an isolated child process; the one place student code runs.

The parent (this module) forks a child from the warm grader process, so torch
is imported once, not twice. The child gets its own session (process group),
resource limits, no stdin, stdout/stderr on a capped pipe, and — when the
grader runs as root — an unprivileged user id. It reports raw data on a second
pipe (see `child.py`); this module only reads frames, enforces deadlines and
kills. It decides nothing about correctness.

A task that times out or kills its process fails alone: the runner starts a
fresh child for the remaining tasks.
"""

from __future__ import annotations

import ctypes
import errno
import io
import os
import resource
import select
import signal
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from grader.child import HEADER, MAGIC

MAX_FRAME = 256 << 20
NOBODY = 65534


@dataclass(frozen=True)
class Limits:
    """What one child may use."""

    task_timeout: list[float]
    """Seconds of wall time per task, in job order."""
    import_timeout: float = 10.0
    memory_mb: int = 2048
    output_limit: int = 4000
    file_size_mb: int = 64
    open_files: int = 256
    processes: int = 64


@dataclass
class TaskRun:
    """What the child said about one task, or why it said nothing."""

    status: str = "pending"
    """`done`, `timeout`, `crashed`, `import_error`, `import_timeout`, `protocol_error`, `pending`."""
    result: dict[str, Any] | None = None
    detail: str = ""
    seconds: float = 0.0


@dataclass
class RunOutcome:
    tasks: list[TaskRun]
    output: str
    isolation: str
    seconds: float
    import_exception: dict[str, Any] | None = None


@dataclass
class _Capture:
    limit: int
    data: bytearray = field(default_factory=bytearray)
    dropped: int = 0

    def feed(self, chunk: bytes) -> None:
        room = self.limit - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        self.dropped += max(0, len(chunk) - max(room, 0))

    def text(self) -> str:
        text = self.data.decode("utf-8", errors="replace")
        if self.dropped:
            text += f"\n... [output truncated: {self.dropped} more bytes not shown] ..."
        return text


def _set_subreaper() -> None:
    """Orphans of the child are re-parented to us, so we can find and kill them."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        except (OSError, AttributeError):
            pass


_set_subreaper()


def _prewarm() -> None:
    """Do once in the parent what every child would otherwise repeat: torch's lazy imports
    for saving, loading, function modes and dispatch modes."""
    import torch

    from grader import child

    buf = io.BytesIO()
    torch.save({"t": torch.zeros(2), "d": torch.float32}, buf)
    torch.load(io.BytesIO(buf.getvalue()), weights_only=True)
    child.encode((torch.zeros(1), 1, "x"))
    with child._CallWatcher(["torch.nn.functional.linear"]), child._AutogradWatcher():
        leaf = torch.ones(1, requires_grad=True)
        torch.autograd.grad((leaf * leaf).sum(), leaf)
    traceback_mod = __import__("traceback")
    traceback_mod.extract_tb(None)
    try:  # the first op on meta imports sympy and symbolic shapes (~0.6 s): keep them out of a task's time
        __import__("torch.fx.experimental.symbolic_shapes")
    except ImportError:
        pass


_warm = False


def _vm_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _apply_limits(limits: Limits) -> None:
    """Called in the child, before any student code."""
    def setlim(which: int, value: int) -> None:
        try:
            _, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass

    setlim(resource.RLIMIT_AS, _vm_bytes() + limits.memory_mb * (1 << 20))
    total = limits.import_timeout + sum(limits.task_timeout)
    setlim(resource.RLIMIT_CPU, int(total) + 2)
    setlim(resource.RLIMIT_FSIZE, limits.file_size_mb << 20)
    setlim(resource.RLIMIT_NOFILE, limits.open_files)
    setlim(resource.RLIMIT_CORE, 0)
    setlim(resource.RLIMIT_NPROC, limits.processes)


def _world_readable_python() -> bool:
    """Whether an unprivileged user could still import torch (e.g. not under /root)."""
    import stat

    import torch

    path = os.path.dirname(os.path.realpath(torch.__file__))
    while True:
        try:
            if not os.stat(path).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


_CAN_DROP = os.geteuid() == 0 and _world_readable_python()


def _drop_privileges() -> None:
    """As root, run student code as `nobody`: it cannot signal the grader or write its files."""
    if not _CAN_DROP:
        return
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)


class ForkLauncher:
    """Children forked from this (warm) process: torch is already imported."""

    isolation = "process"

    def start(self, job: dict[str, Any], limits: Limits) -> tuple[int, int, int]:
        global _warm
        if not _warm:
            _prewarm()
            _warm = True
        res_r, res_w = os.pipe()
        out_r, out_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # child
            try:
                os.setsid()
                os.close(res_r)
                os.close(out_r)
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(out_w, 1)
                os.dup2(out_w, 2)
                os.close(out_w)
                sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
                sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _apply_limits(limits)
                _drop_privileges()
                from grader import child

                child.main(job, res_w)
            finally:
                os._exit(70)
        os.close(res_w)
        os.close(out_w)
        return pid, res_r, out_r


def _kill_tree(pid: int) -> None:
    """Kill the child's process group and every descendant that escaped it."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        import psutil

        me = psutil.Process()
        for proc in me.children(recursive=True):
            try:
                proc.kill()
            except psutil.Error:
                pass
    except ImportError:
        pass
    _reap()


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _decode(payload: bytes) -> dict[str, Any] | None:
    import torch

    try:
        message = torch.load(io.BytesIO(payload), weights_only=True, map_location="cpu")
    except Exception:  # noqa: BLE001 - anything unreadable is the child's fault
        return None
    return message if isinstance(message, dict) else None


def _exit_detail(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == signal.SIGXCPU:
            return "your code used up its CPU time"
        if sig == signal.SIGXFSZ:
            return "your code wrote a file larger than allowed"
        if sig == signal.SIGKILL:
            return "your code was killed (out of memory, or it killed itself)"
        return f"your code crashed the process (signal {name})"
    if os.WIFEXITED(status):
        return f"your code ended the process (exit status {os.WEXITSTATUS(status)}) before this task finished"
    return "the process stopped unexpectedly"


def run(job: dict[str, Any], limits: Limits, launcher: ForkLauncher | None = None,
        on_event: Callable[[str, int], None] | None = None,
        while_waiting: Callable[[], None] | None = None) -> RunOutcome:
    """Run every task of `job`; restart a fresh child after a task kills or hangs its process.

    `while_waiting` runs once in the parent right after the first child starts
    (e.g. computing references), so parent and child work in parallel.
    """
    launcher = launcher or ForkLauncher()
    n = len(job["tasks"])
    runs = [TaskRun() for _ in range(n)]
    capture = _Capture(limits.output_limit)
    started = time.monotonic()
    import_exception: dict[str, Any] | None = None
    next_task = 0
    while next_task < n:
        first = next_task
        next_task = _run_child({**job, "start_task": first}, limits, launcher, runs, capture, on_event,
                               while_waiting)
        while_waiting = None
        if runs[first].status in ("import_error", "import_timeout"):
            import_exception = (runs[first].result or {}).get("exception")
            break
        next_task = max(next_task, first + 1)
    return RunOutcome(runs, capture.text(), launcher.isolation, time.monotonic() - started, import_exception)


def _run_child(job: dict[str, Any], limits: Limits, launcher: ForkLauncher, runs: list[TaskRun],
               capture: _Capture, on_event: Callable[[str, int], None] | None,
               while_waiting: Callable[[], None] | None) -> int:
    """One child from `job['start_task']`; returns the index of the first task it did not finish."""
    first = job["start_task"]
    n = len(runs)
    pid, res_fd, out_fd = launcher.start(job, limits)
    if while_waiting is not None:
        try:
            while_waiting()
        except BaseException:
            _kill_tree(pid)
            raise
    buf = bytearray()
    current: int | None = None  # task being run; None while importing
    t0 = t_task = time.monotonic()
    # deadlines count from when we start watching (the overlap above is the parent's time)
    deadline = t0 + limits.import_timeout
    hard_deadline = t0 + limits.import_timeout + sum(limits.task_timeout[first:]) + 1.0
    open_fds = {res_fd, out_fd}
    exit_status: int | None = None
    broken = False

    def finish_import_failure(status: str, detail: str, result: dict[str, Any] | None = None) -> None:
        for i in range(first, n):
            runs[i] = TaskRun(status, result, detail)

    try:
        while True:
            now = time.monotonic()
            if exit_status is None and (now >= deadline or now >= hard_deadline):
                if current is None:
                    finish_import_failure("import_timeout",
                                          f"loading your file took longer than {limits.import_timeout:g} s")
                    return n
                runs[current] = TaskRun("timeout", None,
                                        f"took longer than {limits.task_timeout[current]:g} s", now - t0)
                return current + 1
            timeout = max(0.0, min(deadline, hard_deadline) - now)
            if exit_status is not None:
                timeout = 0.0
            ready = select.select(list(open_fds), [], [], min(timeout, 0.05) if exit_status is None else 0)[0] \
                if open_fds else []
            for fd in ready:
                try:
                    chunk = os.read(fd, 1 << 16)
                except OSError as exc:
                    if exc.errno in (errno.EAGAIN, errno.EINTR):
                        continue
                    chunk = b""
                if not chunk:
                    open_fds.discard(fd)
                    continue
                if fd == out_fd:
                    capture.feed(chunk)
                    continue
                if broken:
                    continue
                buf += chunk
                while len(buf) >= HEADER.size:
                    magic, length = HEADER.unpack_from(buf)
                    if magic != MAGIC or length > MAX_FRAME:
                        broken = True
                        break
                    if len(buf) < HEADER.size + length:
                        break
                    message = _decode(bytes(buf[HEADER.size:HEADER.size + length]))
                    del buf[:HEADER.size + length]
                    if message is None:
                        broken = True
                        break
                    event = message.get("event")
                    now = time.monotonic()
                    if event == "import_error":
                        finish_import_failure("import_error", "", message)
                        return n
                    if event == "loaded" and current is None:
                        current = first
                        deadline = now + limits.task_timeout[first] if first < n else now
                    elif event == "start" and isinstance(message.get("task"), int):
                        idx = message["task"]
                        if current is not None and first <= idx < n and idx == current:
                            deadline = now + limits.task_timeout[idx]
                            t_task = now
                            if on_event:
                                on_event("start", idx)
                    elif event == "done" and message.get("task") == current and current is not None:
                        result = message.get("result")
                        runs[current] = TaskRun("done", result if isinstance(result, dict) else None,
                                                "", now - t_task)
                        if on_event:
                            on_event("done", current)
                        current += 1
                        if current >= n:
                            return n
                        deadline = now + limits.task_timeout[current]
                    elif event == "harness_error":
                        broken = True
            if broken and current is not None:
                runs[current] = TaskRun("protocol_error", None,
                                        "your code interfered with the grader's result channel")
                return current + 1
            if exit_status is None:
                waited, status = os.waitpid(pid, os.WNOHANG)
                if waited == pid:
                    exit_status = status
                    continue  # drain what is left without blocking
            elif not ready or not open_fds:
                detail = _exit_detail(exit_status)
                if current is None:
                    finish_import_failure("crashed", detail)
                    return n
                if current < n:
                    runs[current] = TaskRun("crashed", None, detail)
                return current + 1
    finally:
        for fd in (res_fd, out_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        _kill_tree(pid)
        if exit_status is None:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
