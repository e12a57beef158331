"""A job's jail: what the process the zygote forks for one job does to itself, before any
student code, and how what it leaves behind is killed and reaped.

In the order the zygote (`zygote.py`) applies them: stdout/stderr onto the capped pipe,
every other descriptor closed, then one of the `confine_*_child` functions (bubblewrap
sandbox, process mode as root, process mode as a user) builds the mounts, namespaces,
uid, resource limits and seccomp filter (`confine.py` holds the system calls), and
`run_child` hands over to the harness (`child.py`). Nothing here reads a frame or judges
a result; `runner.py` does the first, `grader/compare.py` the second.
"""

from __future__ import annotations

import functools
import os
import resource
import signal
import stat
import sys
import time
from dataclasses import dataclass
from typing import Any, NoReturn

from grader.boundary import confine

TMP_MB = 64
"""Size of the child's private /tmp where it gets one (sandbox, or process mode with namespaces)."""
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")


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
    cuda: bool = False
    """The job checks `cuda`: memory per process is then its data (RLIMIT_DATA), not its address
    space, which CUDA reserves by the tens of GiB when it starts (RLIMIT_AS: "out of memory")."""


def _vm_bytes(field: int = 0) -> int:
    """From /proc/self/statm: the address space (0), or data and stack (5), in bytes."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[field]) * os.sysconf("SC_PAGE_SIZE")
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

    if limits.cuda:
        setlim(resource.RLIMIT_DATA, _vm_bytes(5) + limits.memory_mb * (1 << 20))
    else:
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
    """A fresh, size-limited /tmp and /dev/shm (POSIX shared memory) for this job, in a private
    mount namespace, as bwrap's sandbox has; the host's would be read-only. Directories Python
    needs that live under /tmp (a venv, a checkout) are bound back in, read-only."""
    inside = [p for p in needed if p.startswith("/tmp/")]
    handles = {p: os.open(p, os.O_PATH | os.O_CLOEXEC) for p in inside}
    try:
        confine.tmpfs("/tmp", TMP_MB)
        if os.path.isdir("/dev/shm"):
            confine.tmpfs("/dev/shm", TMP_MB)
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


def run_child(job: dict[str, Any], res_w: int, home: str, profiler: Any) -> NoReturn:
    """Last steps in a confined child: a minimal environment, then the harness (with the
    profiler's controls the zygote took, see `observe.take_profiler`)."""
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
    from grader.boundary import child

    child.main(job, res_w, profiler)


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
