"""Runs a submission in an isolated child; the one place student code runs.

A launcher starts each child: `sandbox.SandboxLauncher` (bubblewrap, the
default where it works) or `sandbox.ForkLauncher` (process mode); both fork
it from a warm zygote (`zygote.py`) that imported torch once and never holds a
reference solution. The confinement each child applies to itself before any
student code is here (`confine_*_child`, `run_child`). Either way the child
gets a session of its own, resource limits, no stdin, stdout/stderr on a
capped pipe and a minimal environment, and it reports raw data on a second
pipe (see `child.py`). This module reads frames, enforces deadlines and kills; it decides nothing about correctness.

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
import functools
import os
import resource
import secrets
import select
import signal
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol

from grader import confine, messages, wire
from grader.child import HEADER, MAGIC, MAX_FRAME

MAX_TIMEOUT_S = 3600.0
MAX_OUTPUT = 1 << 20
DRAIN_S = 0.5
RELEASE_WAIT_S = 1.0
"""How long a killed job is waited for before the next one starts (it is reaped later)."""
"""How long output is still read after the child has exited (orphans may hold the pipes)."""
TMP_MB = 64
"""Size of the child's private /tmp where it gets one (sandbox, or process mode with namespaces)."""
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
PROTOCOL_ERROR = "your code wrote to the grader's result channel (or broke it), so its results cannot be trusted"
LOST = ("the grader's sandbox stopped while running this task, twice (it was started again once): the grader "
        "could not finish grading it. Grade again; if this keeps happening, tell your instructor (code that "
        "kills processes it did not start, or uses far more memory than allowed, can cause it)")
OUT_OF_TIME = ("could not start before the time limit of the whole exercise ran out (your file is loaded "
               "again after a task fails, and that took too long)")


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
    result_mb: int = 256
    """MiB of results (text and tensor bytes) the grader decodes from one job's children, all together."""


class Launcher(Protocol):
    @property
    def isolation(self) -> str: ...

    def start(self, job: dict[str, Any], limits: Limits) -> tuple[int, int, int]: ...


@dataclass
class TaskRun:
    """What the child said about one task, or why it said nothing."""

    status: str = "pending"
    """`done`, `timeout`, `crashed`, `import_error`, `import_timeout`, `protocol_error`, `pending`,
    or `lost` (the launcher's own process died under the child: not the submission's doing)."""
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


def prewarm() -> None:
    """Do once in a warm process what every child would otherwise repeat: torch's lazy imports
    for saving, loading, function modes and dispatch modes."""
    import torch

    from grader import child

    wire.unpack(wire.pack({"t": torch.zeros(2), "d": torch.float32, "s": (1, "x")}))
    child.encode((torch.zeros(1), 1, "x"))
    child.prewarm()
    traceback_mod = __import__("traceback")
    traceback_mod.extract_tb(None)
    try:  # the first op on meta imports sympy and symbolic shapes (~0.6 s): keep them out of a task's time
        __import__("torch.fx.experimental.symbolic_shapes")
    except ImportError:
        pass


def prewarm_idle() -> None:
    """What the zygote loads once it has served a job and is idle (see `child.prewarm_idle`)."""
    from grader import child

    child.prewarm_idle()


def _vm_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _apply_limits(limits: Limits, processes: int | None = None) -> None:
    """Called in the child, before any student code. `processes` is the RLIMIT_NPROC to set:
    the kernel counts every thread of the child's real uid against it (root is exempt)."""
    def setlim(which: int, soft: int, hard: int | None = None) -> None:
        hard = soft if hard is None else hard
        try:
            _, old_hard = resource.getrlimit(which)
            if old_hard != resource.RLIM_INFINITY:
                soft, hard = min(soft, old_hard), min(hard, old_hard)
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):
            pass

    setlim(resource.RLIMIT_AS, _vm_bytes() + limits.memory_mb * (1 << 20))
    total = int(limits.import_timeout + sum(limits.task_timeout)) + 2
    setlim(resource.RLIMIT_CPU, total, total + 1)  # SIGXCPU, then SIGKILL one second later
    setlim(resource.RLIMIT_FSIZE, limits.file_size_mb << 20)
    setlim(resource.RLIMIT_NOFILE, limits.open_files)
    setlim(resource.RLIMIT_CORE, 0)
    setlim(resource.RLIMIT_NPROC, processes if processes is not None else limits.processes)


# ------------------------------------------------------------------ inside the child

def redirect_stdio(out_w: int) -> None:
    """stdin from /dev/null; stdout and stderr to the capture pipe."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out_w, 1)
    os.dup2(out_w, 2)
    os.close(null)
    if out_w > 2:
        os.close(out_w)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115


def close_fds_except(*keep: int | None) -> None:
    """Nothing of the grader's stays open in the child: other jobs' pipes, sockets, files."""
    low = 3
    for fd in sorted(k for k in keep if k is not None and k >= low):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 20)


def expose_paths(paths: list[str]) -> None:
    """In a private mount namespace, as root: make `paths` reachable by any user.

    Each ancestor directory that others may not enter (root's home is mode 700,
    and this machine's Python lives there) is covered with a small tmpfs that
    holds bind mounts of just the entries on the way to `paths`, as bubblewrap
    does. Everything else in such a directory disappears from the child's view.
    """
    for _ in range(6):
        blocked: dict[str, set[str]] = {}
        for path in paths:
            parts = [p for p in path.split("/") if p]
            for depth in range(len(parts)):
                here = "/" + "/".join(parts[:depth])
                try:
                    if not os.stat(here).st_mode & stat.S_IXOTH:
                        blocked.setdefault(here, set()).add(parts[depth])
                        break
                except OSError:
                    break
        if not blocked:
            return
        for here in sorted(blocked, key=len):
            if any(here.startswith(other.rstrip("/") + "/") for other in blocked if other != here):
                continue  # covered when its blocked ancestor is
            handles = {name: os.open(os.path.join(here, name), os.O_PATH | os.O_CLOEXEC) for name in blocked[here]}
            try:
                confine.tmpfs(here, 1, 0o755)
                for name, fd in handles.items():
                    target = os.path.join(here, name)
                    if stat.S_ISDIR(os.fstat(fd).st_mode):
                        os.mkdir(target)
                    else:
                        open(target, "w").close()  # noqa: SIM115
                    confine.mount(f"/proc/self/fd/{fd}", target, None, confine.MS_BIND_REC)
            finally:
                for fd in handles.values():
                    os.close(fd)


def private_tmp(needed: list[str]) -> None:
    """A fresh, size-limited /tmp for this job, in a private mount namespace. Directories
    Python needs that live under /tmp (a venv, a checkout) are bound back in, read-only."""
    inside = [p for p in needed if p.startswith("/tmp/")]
    handles = {p: os.open(p, os.O_PATH | os.O_CLOEXEC) for p in inside}
    try:
        confine.tmpfs("/tmp", TMP_MB)
        for path, fd in handles.items():
            os.makedirs(path, mode=0o755, exist_ok=True)
            confine.mount(f"/proc/self/fd/{fd}", path, None, confine.MS_BIND_REC)
            confine.readonly_tree(path)
    finally:
        for fd in handles.values():
            os.close(fd)


@dataclass
class Confined:
    """What a child's confinement achieved (the walls it got), returned in the child."""

    home: str
    ipc_namespace: bool = False
    pid_namespace: bool = False
    own_proc: bool = False


def _own_mounts(pid_namespace: bool) -> bool:
    """In a fresh mount and IPC namespace: nothing we mount leaks out, and a /proc of our own
    PID namespace replaces the host's. Returns whether that /proc was mounted."""
    confine.private_mounts()
    if not pid_namespace:
        return False
    try:
        confine.mount_proc()
        return True
    except OSError:
        return False


def confine_root_child(limits: Limits, uid: int, workdir: str, needed: list[str], netns: int | None) -> Confined:
    """As root, in a forked child: its own mount and IPC namespaces, every mount read-only, a
    private /tmp, then an unused unprivileged uid without capabilities.

    Where the kernel refuses a mount namespace (a container without CAP_SYS_ADMIN), the
    child leaves root at once (everything it imports is loaded already) and confines itself
    as that uid would (`confine_user_child`): it never keeps uid 0 nor any capability.
    """
    if netns is not None:
        try:
            confine.setns(netns, confine.CLONE_NEWNET)  # no network
        except OSError:
            pass
        os.close(netns)
    pid_namespace = os.getpid() == 1
    try:
        confine.unshare(confine.CLONE_NEWNS | confine.CLONE_NEWIPC)
        own_proc = _own_mounts(pid_namespace)
        expose_paths(needed)
        confine.readonly_tree("/")
        private_tmp(needed)
    except OSError:
        os.chown(workdir, uid, uid)
        handles = _handles_to_unreachable(needed)
        _become(uid)
        _reroute_imports(handles)
        return confine_user_child(limits, workdir)
    _apply_limits(limits)  # the uid is fresh: RLIMIT_NPROC counts this job only
    _become(uid)
    confine.set_no_new_privs()
    return Confined("/tmp", ipc_namespace=True, pid_namespace=pid_namespace, own_proc=own_proc)


def _handles_to_unreachable(paths: list[str]) -> dict[str, int]:
    """As root, before leaving it: an O_PATH handle on each of `paths` that another user could
    not reach (Python under root's home, mode 0700), to keep importing from after the drop."""
    handles = {}
    for path in paths:
        here = path
        while here != "/":
            here = os.path.dirname(here)
            try:
                if not os.stat(here).st_mode & stat.S_IXOTH:
                    handles[path] = os.open(path, os.O_PATH | os.O_DIRECTORY)
                    break
            except OSError:
                break
    return handles


def _reroute_imports(handles: dict[str, int]) -> None:
    """After leaving root without a mount namespace: imports of the standard library or torch
    still work through `/proc/self/fd/N` (following one's own descriptor skips the folders
    above it, which this uid may not enter). Every search path (sys.path, each package's
    __path__) is rewritten; nothing else of those folders' parents becomes reachable."""
    if not handles:
        return
    routes = sorted(((p.rstrip("/") + "/", f"/proc/self/fd/{fd}/") for p, fd in handles.items()),
                    key=lambda r: -len(r[0]))

    def moved(entry: str) -> str:
        for old, new in routes:
            if entry == old[:-1]:
                return new[:-1]
            if entry.startswith(old):
                return new + entry[len(old):]
        return entry

    sys.path[:] = [moved(p) for p in sys.path]
    for module in list(sys.modules.values()):
        search = getattr(module, "__path__", None)
        if isinstance(search, list):
            search[:] = [moved(p) for p in search]
    sys.path_importer_cache.clear()


def _become(uid: int) -> None:
    """Leave root for `uid`: real, effective and saved, no supplementary groups, no capability
    left in any set and none that exec could grant back."""
    confine.drop_capabilities_bounding()
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # leaving uid 0: the kernel clears every capability
    confine.drop_capabilities()  # and this the inheritable set


def confine_sandbox_child(limits: Limits, uid: int | None) -> Confined:
    """Inside the bubblewrap sandbox, in a child of the zygote: its own mount and IPC
    namespaces (no System V object outlives the job or reaches another), a /proc of its own
    PID namespace, a private /tmp, then `uid` (bubblewrap started as root: an unused uid per
    job) or, in a user namespace where only one uid exists, no capabilities."""
    walls = Confined("/tmp", pid_namespace=os.getpid() == 1)
    try:
        confine.unshare(confine.CLONE_NEWNS | confine.CLONE_NEWIPC)
        walls.ipc_namespace = True
        walls.own_proc = _own_mounts(walls.pid_namespace)
        private_tmp(_python_paths())
    except OSError:
        pass  # the sandbox's own /tmp and IPC namespace, shared with the other jobs of this sandbox
    if uid is not None:
        _apply_limits(limits)
        _become(uid)
    else:
        _apply_limits(limits, confine.tasks_of_uid(os.getuid()) + limits.processes)
        confine.drop_capabilities()
    confine.set_no_new_privs()
    return walls


def confine_user_child(limits: Limits, workdir: str) -> Confined:
    """Not root, in a forked child: user, PID, mount, IPC and network namespaces of our own
    where the kernel allows them (a relay process stays outside and passes on the exit
    status), so that the child cannot signal the grader, write outside its /tmp, see other
    processes, or leave processes or System V objects behind. Otherwise RLIMIT_NPROC counts
    from the processes this user already has."""
    uid, gid = os.getuid(), os.getgid()
    try:
        confine.unshare(confine.CLONE_NEWUSER | confine.CLONE_NEWPID | confine.CLONE_NEWNS | confine.CLONE_NEWNET
                        | confine.CLONE_NEWIPC)
        confine.map_own_ids(uid, gid)
    except OSError:
        _apply_limits(limits, confine.tasks_of_uid(os.getuid()) + limits.processes)
        confine.set_no_new_privs()
        return Confined(workdir)
    pid = os.fork()
    if pid != 0:
        _relay(pid)
    walls = Confined("/tmp", ipc_namespace=True, pid_namespace=True)
    try:
        confine.set_parent_death_signal(signal.SIGKILL)
        walls.own_proc = _own_mounts(True)
        confine.readonly_tree("/")
        private_tmp(_python_paths())
    except OSError:
        walls.home = workdir
    _apply_limits(limits, 2 + limits.processes)  # the relay and this process count too
    confine.drop_capabilities()
    confine.set_no_new_privs()
    return walls


def _relay(pid: int) -> NoReturn:
    """Wait for the namespace's first process and end the same way, holding nothing open."""
    os.closerange(0, 1 << 20)
    status = 0
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            break
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70)


def run_child(job: dict[str, Any], res_w: int, home: str) -> NoReturn:
    """Last steps in a confined child: a minimal environment, then the harness."""
    try:
        os.chdir(home)
    except OSError:
        home = "/"
    env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ}
    env.update(HOME=home, TMPDIR=home, USER="student", LOGNAME="student", MPLCONFIGDIR=home,
               PYTHONDONTWRITEBYTECODE="1")
    os.environ.clear()
    os.environ.update(env)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        confine.set_dumpable(False)
    except OSError:
        pass
    from grader import child

    child.main(job, res_w)


# ------------------------------------------------------------------ process mode

@functools.lru_cache(maxsize=1)
def _python_paths() -> list[str]:
    return confine.python_paths()


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_session(pid: int) -> None:
    """Without a PID namespace: the child's descendants, its process group, and whatever
    is left of its session (orphans re-parented to us), but nothing else of ours."""
    victims: set[int] = set()
    try:
        import psutil

        try:
            victims.update(p.pid for p in psutil.Process(pid).children(recursive=True))
        except psutil.Error:
            pass
        for other in psutil.pids():
            try:
                if other != pid and os.getsid(other) == pid:
                    victims.add(other)
            except OSError:
                continue
    except ImportError:
        pass
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    _kill(pid)
    for victim in victims:
        _kill(victim)
    me = os.getpid()
    for victim in victims:  # orphans re-parented to us (subreaper) must not stay zombies
        try:
            with open(f"/proc/{victim}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == me:
            _reap(victim, timeout=1.0)


def _reap(pid: int, timeout: float = 5.0) -> bool:
    """Wait up to `timeout` for our child `pid` to end, and reap it; True once it is gone."""
    end = time.monotonic() + timeout
    while True:
        try:
            waited, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return True
        except InterruptedError:
            continue
        if waited == pid:
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(0.005)


def default_launcher() -> Any:
    """The strongest launcher this machine offers (see `sandbox.default_launcher`)."""
    from grader import sandbox

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
        attempt_started, printed = time.monotonic(), (len(capture.data), capture.dropped)
        next_task, parent_s = _run_child({**job, "start_task": first}, limits, launcher, runs, capture, on_event,
                                         while_waiting, deadline, budget)
        deadline += parent_s + 1.0  # the parent's own work does not count; a second for each restart
        while_waiting = None
        lost = next((i for i in range(first, n) if runs[i].status == "lost"), None)
        if lost is not None and not retried:  # once, on a fresh sandbox; a second loss is a grader_error
            retried = True
            deadline += time.monotonic() - attempt_started
            del capture.data[printed[0]:]
            capture.dropped = printed[1]
            runs[lost:] = [TaskRun() for _ in range(lost, n)]
            next_task = lost
            continue
        if runs[first].status in ("import_error", "import_timeout"):
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
            **getattr(launcher, "walls", {})}


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
