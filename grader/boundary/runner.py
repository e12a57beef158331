"""The grader's side of a job: starts the child, reads its frames, enforces deadlines, kills.

A launcher starts each child: `sandbox.SandboxLauncher` (bubblewrap, the
default where it works) or `sandbox.ForkLauncher` (process mode); both fork
it from a warm zygote (`zygote.py`) that imported torch once and never holds a
reference solution. The confinement each child applies to itself before any
student code is in `jail.py`. Either way the child gets a session of its own,
resource limits, no stdin, stdout/stderr on a capped pipe and a minimal
environment, and it reports raw data on a second pipe (see `child.py`), each
message checked against its schema (`messages.py`). This module decides nothing
about correctness.

A task that times out or kills its process fails alone: the runner starts a
fresh child for the remaining tasks, within one time budget for the exercise.

The launcher interface: `.isolation` (str) and `.start(job, limits) -> (pid,
result_fd, output_fd)`; optionally `.poll(pid)` (the child's wait status once
it has ended, else None) and `.release(pid)` (kill whatever is left of the
job and reap it; called once per start). Without those two the runner uses
os.waitpid and kills the child's process group.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import secrets
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from grader.boundary import confine, messages, wire
from grader.boundary.child import HEADER, MAGIC, MAX_FRAME
from grader.boundary.jail import Limits, _kill, _reap

MAX_TIMEOUT_S = 3600.0
MAX_OUTPUT = 1 << 20
DRAIN_S = 0.5
"""How long output is still read after the child has exited (orphans may hold the pipes)."""
PROTOCOL_ERROR = "your code wrote to the grader's result channel (or broke it), so its results cannot be trusted"
UNAVAILABLE = ("the grader could not start {} in the process that runs your code, before your code ran: this is "
               "the grader's problem, not your code's; tell your instructor (`--devices cpu,meta` grades without it)")
LOST = ("the grader's sandbox stopped while running this task, twice (it was started again once): the grader "
        "could not finish grading it. Grade again; if this keeps happening, tell your instructor (code that "
        "kills processes it did not start, or uses far more memory than allowed, can cause it)")
OUT_OF_TIME = ("could not start before the time limit of the whole exercise ran out (your file is loaded "
               "again after a task fails, and that took too long)")


class Launcher(Protocol):
    @property
    def isolation(self) -> str: ...

    def start(self, job: dict[str, Any], limits: Limits) -> tuple[int, int, int]: ...


@dataclass
class TaskRun:
    """What the child said about one task, or why it said nothing."""

    status: str = "pending"
    """`done`, `timeout`, `crashed`, `import_error`, `import_timeout`, `protocol_error`, `pending`,
    `lost` (the launcher's own process died under the child: not the submission's doing), or
    `unavailable` (a device the job checks would not start in the child, before the submission ran)."""
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
    limits: dict[str, Any] = field(default_factory=dict)
    """The limits that applied, and how they were enforced (see `applied_limits`)."""


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

    def mark(self) -> tuple[int, int]:
        """Where the capture stands, for `rewind`."""
        return len(self.data), self.dropped

    def rewind(self, mark: tuple[int, int]) -> None:
        """Forget what came after `mark` (a job run again prints it again)."""
        del self.data[mark[0]:]
        self.dropped = mark[1]

    def text(self) -> str:
        text = self.data.decode("utf-8", errors="replace")
        if self.dropped:
            text += f"\n... [output truncated: {self.dropped} more bytes not shown] ..."
        return text


def _set_subreaper() -> None:
    """Orphans of the child are re-parented to us, so we can find and kill them."""
    try:
        confine.set_subreaper()
    except (OSError, AttributeError):
        pass


_set_subreaper()


def default_launcher() -> Any:
    """The strongest launcher this machine offers (see `sandbox.default_launcher`)."""
    from grader.boundary import sandbox

    return sandbox.default_launcher()


# ------------------------------------------------------------------ reading the child

def _exit_detail(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == signal.SIGXCPU:
            return "your code used up its CPU time"
        if sig == signal.SIGXFSZ:
            return "your code wrote a file larger than allowed"
        if sig == signal.SIGKILL:
            return "your code was killed (out of memory, out of CPU time, or it killed itself)"
        return f"your code crashed the process (signal {name})"
    if os.WIFEXITED(status):
        return f"your code ended the process (exit status {os.WEXITSTATUS(status)}) before this task finished"
    return "the process stopped unexpectedly"


def _poll(launcher: Any, pid: int) -> int | None:
    poll = getattr(launcher, "poll", None)
    if poll is not None:
        return poll(pid)
    try:
        waited, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return 0
    return status if waited == pid else None


def _release(launcher: Any, pid: int, exited: bool, finished: bool) -> None:
    """End the job. When its child `finished` (sent every result), its teardown (tens of ms
    for a big process in its own namespaces) overlaps the next job instead of delaying it."""
    release = getattr(launcher, "release", None)
    if release is not None:
        release(pid, wait=not finished)
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if not exited:
        _kill(pid)
        _reap(pid)


def run(job: dict[str, Any], limits: Limits, launcher: Any = None,
        on_event: Callable[[str, int], None] | None = None,
        while_waiting: Callable[[], None] | None = None) -> RunOutcome:
    """Run every task of `job`; restart a fresh child after a task kills or hangs its process.

    `while_waiting` runs once in the parent right after the first child starts
    (e.g. computing references), so parent and child work in parallel. The
    whole run gets the import timeout plus every task's timeout (and a second
    per restart); tasks not reached in that time are timeouts.
    """
    launcher = launcher or default_launcher()
    limits = _bounded(limits)
    job = {**job, "seal": secrets.token_hex(16)}  # proves a frame is the harness's (child.py)
    if while_waiting is not None and getattr(launcher, "warming", False):
        while_waiting()  # overlap it with the sandbox's start-up (a second import of torch) instead
        while_waiting = None
    n = len(job["tasks"])
    runs = [TaskRun() for _ in range(n)]
    capture = _Capture(limits.output_limit)
    budget = wire.Budget(limits.result_mb << 20)
    started = time.monotonic()
    import_exception: dict[str, Any] | None = None
    deadline = started + limits.import_timeout + sum(limits.task_timeout) + 1.0
    next_task = 0
    retried = False
    while next_task < n:
        if time.monotonic() >= deadline:
            for i in range(next_task, n):
                runs[i] = TaskRun("timeout", None, OUT_OF_TIME)
            break
        first = next_task
        attempt_started, printed = time.monotonic(), capture.mark()
        next_task, parent_s = _run_child({**job, "start_task": first}, limits, launcher, runs, capture, on_event,
                                         while_waiting, deadline, budget)
        deadline += parent_s + 1.0  # the parent's own work does not count; a second for each restart
        while_waiting = None
        lost = next((i for i in range(first, n) if runs[i].status == "lost"), None)
        if lost is not None and not retried:  # once, on a fresh sandbox; a second loss is a grader_error
            retried = True
            deadline += time.monotonic() - attempt_started
            capture.rewind(printed)
            runs[lost:] = [TaskRun() for _ in range(lost, n)]
            next_task = lost
            continue
        if runs[first].status in ("import_error", "import_timeout", "unavailable"):
            import_exception = (runs[first].result or {}).get("exception")
            break
        next_task = max(next_task, first + 1)
    return RunOutcome(runs, capture.text(), launcher.isolation, time.monotonic() - started, import_exception,
                      applied_limits(limits, launcher))


def applied_limits(limits: Limits, launcher: Any) -> dict[str, Any]:
    """For the report: each limit and, from the launcher, how it was held (a cgroup for the
    whole job, or resource limits per process) and whether a system call filter ran."""
    return {"memory_mb": limits.memory_mb, "processes": limits.processes,
            "cpu_s": int(limits.import_timeout + sum(limits.task_timeout)) + 2,
            "file_size_mb": limits.file_size_mb, "open_files": limits.open_files,
            **getattr(launcher, "walls", {}),
            **({"memory_per_process": "data, not address space (CUDA reserves far more than it uses)"}
               if limits.cuda else {})}


def _bounded(limits: Limits) -> Limits:
    """Limits a course file cannot lift: finite timeouts, a capture that fits in memory."""
    def cap(value: float, most: float) -> float:
        return value if 0 < value <= most else most  # also NaN and infinity

    return dataclasses.replace(limits, task_timeout=[cap(t, MAX_TIMEOUT_S) for t in limits.task_timeout],
                               import_timeout=cap(limits.import_timeout, MAX_TIMEOUT_S),
                               output_limit=int(cap(limits.output_limit, MAX_OUTPUT)))


def _run_child(job: dict[str, Any], limits: Limits, launcher: Any, runs: list[TaskRun],
               capture: _Capture, on_event: Callable[[str, int], None] | None,
               while_waiting: Callable[[], None] | None, deadline: float,
               budget: wire.Budget | None = None) -> tuple[int, float]:
    """One child from `job['start_task']`; returns the index of the first task it did not
    finish, and the seconds spent in `while_waiting`.

    The child must follow the protocol exactly: `loaded` (or `import_error`), then for
    each task one `start` and one `done`, every message valid by its schema
    (messages.py). A task's deadline is set when it becomes the current one and no
    message moves it. Anything else ends the current task as a protocol error that
    says what was wrong."""
    first = job["start_task"]
    n = len(runs)
    pid, res_fd, out_fd = launcher.start(job, limits)
    parent_s = 0.0
    exit_status: int | None = None
    finished = False  # the child sent what it had to: no need to wait for it to go
    try:
        if while_waiting is not None:
            t = time.monotonic()
            while_waiting()
            parent_s = time.monotonic() - t
        deadline += parent_s
        buf = bytearray()
        current: int | None = None  # task being run; None while importing
        t0 = t_task = time.monotonic()
        # deadlines count from when we start watching (the overlap above is the parent's time)
        task_deadline = t0 + limits.import_timeout
        hard_deadline = min(t0 + limits.import_timeout + sum(limits.task_timeout[first:]) + 1.0, deadline)
        drain_until = 0.0
        open_fds = {res_fd, out_fd}
        broken = False
        problem = ""  # what the child did wrong, for the feedback
        started = False  # the current task's `start` has come

        def finish_import_failure(status: str, detail: str, result: dict[str, Any] | None = None) -> None:
            for i in range(first, n):
                runs[i] = TaskRun(status, result, detail)

        while True:
            now = time.monotonic()
            if exit_status is None and (now >= task_deadline or now >= hard_deadline):
                if current is None:
                    if now >= hard_deadline and first > 0:
                        finish_import_failure("timeout", OUT_OF_TIME)
                    else:
                        finish_import_failure("import_timeout",
                                              f"loading your file took longer than {limits.import_timeout:g} s")
                    return n, parent_s
                runs[current] = TaskRun("timeout", None,
                                        f"took longer than {limits.task_timeout[current]:g} s", now - t_task)
                return current + 1, parent_s
            wait = min(max(0.0, min(task_deadline, hard_deadline) - now), 0.05) if exit_status is None else 0.0
            ready = select.select(list(open_fds), [], [], wait)[0] if open_fds else []
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
                    frame = bytes(memoryview(buf)[HEADER.size:HEADER.size + length])
                    del buf[:HEADER.size + length]
                    try:
                        message = messages.read(frame, n, budget)
                    except wire.FrameError as exc:
                        broken, problem = True, str(exc)
                        break
                    if message.pop("seal", None) != job.get("seal"):
                        broken = True  # not the harness's (it alone knows the seal)
                        problem = "a message on the grader's result channel that its harness did not send"
                        break
                    event = message["event"]
                    now = time.monotonic()
                    if current is None and event == "import_error":
                        finish_import_failure("import_error", "", message)
                        finished = True
                        return n, parent_s
                    if current is None and event == "unavailable":
                        finish_import_failure("unavailable", UNAVAILABLE.format(message["message"]))
                        finished = True
                        return n, parent_s
                    if current is None and event == "loaded":
                        current = first
                        task_deadline = now + limits.task_timeout[first] if first < n else now
                    elif current is not None and event == "start" and message["task"] == current and not started:
                        started, t_task = True, now
                        if on_event:
                            on_event("start", current)
                    elif current is not None and event == "done" and message["task"] == current and started:
                        runs[current] = TaskRun("done", message["result"], "", now - t_task)
                        if on_event:
                            on_event("done", current)
                        current += 1
                        started = False
                        if current >= n:
                            finished = True
                            return n, parent_s
                        task_deadline = now + limits.task_timeout[current]
                    else:
                        broken = True
                        problem = (message["message"] if event == "harness_error" else
                                   f"a '{event}' message" + (f" for task {message['task']}" if "task" in message
                                                            else "") + " out of turn")
                        break
            if broken:
                detail = f"{PROTOCOL_ERROR} ({problem or 'a message with a wrong header'})"
                if current is None:
                    finish_import_failure("protocol_error", detail)
                    return n, parent_s
                runs[current] = TaskRun("protocol_error", None, detail)
                return current + 1, parent_s
            if exit_status is None:
                exit_status = _poll(launcher, pid)
                if exit_status is not None:
                    drain_until = time.monotonic() + DRAIN_S
                    continue  # read what is left without blocking
            elif not ready or not open_fds or time.monotonic() >= drain_until:
                status, detail = "crashed", _exit_detail(exit_status)
                if _lost(launcher, pid):
                    status, detail = "lost", LOST
                if current is None:
                    finish_import_failure(status, detail)
                    return n, parent_s
                if current < n:
                    runs[current] = TaskRun(status, None, detail)
                return current + 1, parent_s
    finally:
        _drain_output(out_fd, capture)
        for fd in (res_fd, out_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        _release(launcher, pid, exit_status is not None, finished)


def _lost(launcher: Any, handle: int) -> bool:
    """Whether the launcher's own process (the sandbox's zygote) died while this job ran."""
    lost = getattr(launcher, "lost", None)
    return bool(lost(handle)) if lost is not None else False


def _drain_output(fd: int, capture: _Capture) -> None:
    """What the child printed before its last frame (briefly: it may still be flooding)."""
    end = time.monotonic() + 0.1
    while time.monotonic() < end:
        try:
            if not select.select([fd], [], [], 0)[0]:
                return
            chunk = os.read(fd, 1 << 16)
        except OSError:
            return
        if not chunk:
            return
        capture.feed(chunk)
