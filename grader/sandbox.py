"""The bubblewrap sandbox: where student code runs when `bwrap` is available.

One warm process per launcher, the zygote (`zygote.py`), runs inside bwrap
with no network, its own PID, IPC and UTS namespaces, an empty environment,
a read-only view of the system libraries and of Python (only the directories
Python needs are bound: the interpreter's prefix and this package, nothing of
the course: no solutions/, no exercises/ with their hidden cases, no
workspace, no other submission) and a tmpfs /tmp. It imported torch once and
forks one child per job; each child is process 1 of a PID namespace of its
own, with a private /tmp, an unprivileged uid, no capabilities and the same
resource limits as process mode (see `runner.confine_sandbox_child`).

The job (source text and inputs) travels in a memfd, and the child's result
and output pipes as file descriptors, over a Unix socket (SCM_RIGHTS): no
path of the grader's is ever given to the sandbox.

If bwrap is missing or the sandbox does not start, the launcher falls back to
process mode (`runner.ForkLauncher`) and reports `isolation: process`.
GRADER_ISOLATION=process skips the sandbox; GRADER_ISOLATION=bwrap makes a
sandbox that cannot start an error instead.

Nothing here imports torch at import time: `prestart()` launches the sandbox
while the grader is still importing torch itself.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from typing import Any

from grader import confine
from grader.errors import GraderError

ISOLATION_ENV = "GRADER_ISOLATION"
READY_TIMEOUT_S = 120.0
"""How long a fresh sandbox may take to import torch (a busy machine can be slow)."""
KILL_TIMEOUT_S = 5.0
RELEASE_WAIT_S = 1.0
"""How long release() waits to see a killed job gone. Tearing down many big processes (a
fork bomb of torch processes) can take seconds on a busy machine; the kernel finishes
it in the background while the next job runs."""
HANDLE_BASE = 1 << 30
"""Sandbox job handles are above any pid, so they can never be mistaken for one."""
_ROOT_CAPS = ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_KILL")
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd",
              "/etc/group", "/etc/nsswitch.conf")
BOOT = ("import sys, json; c = json.loads(sys.argv[1]); sys.path[:] = c['path']; "
        "from grader.zygote import main; main(c)")


class SandboxError(GraderError):
    """GRADER_ISOLATION=bwrap was asked for, but the sandbox cannot run here."""


def isolation_mode() -> str:
    mode = os.environ.get(ISOLATION_ENV, "auto").strip().lower() or "auto"
    if mode not in ("auto", "bwrap", "process"):
        raise SandboxError(f"{ISOLATION_ENV}={mode!r}: use auto, bwrap or process")
    return mode


def bwrap_path() -> str | None:
    return shutil.which("bwrap") if confine.LINUX else None


def _inside(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def bwrap_command(bwrap: str, control_fd: int) -> list[str]:
    """The bwrap command line that starts a zygote serving on `control_fd`."""
    root = os.geteuid() == 0
    paths = confine.python_paths()
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys_path = [p for p in (os.path.abspath(p) for p in sys.path if p) if _inside(p, paths)]
    config = {"fd": control_fd, "path": [*sys_path, package_parent], "root": root, "uid_seed": os.getpid()}
    args = [bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session"]
    if root:  # no user namespace: the zygote gives each child an unused uid of the real system
        args += ["--cap-drop", "ALL"]
        for cap in _ROOT_CAPS:
            args += ["--cap-add", cap]
    else:  # one uid, mapped to ours; PID namespaces per job need CAP_SYS_ADMIN inside
        args += ["--unshare-user", "--uid", "65534", "--gid", "65534", "--disable-userns",
                 "--cap-add", "CAP_SYS_ADMIN"]
    # /proc, /dev and the /tmp tmpfs first: bwrap mounts in order, and a later tmpfs
    # would hide an interpreter or package that lives under /tmp (a venv, a checkout).
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
    for top in _SYSTEM_DIRS:
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for path in _ETC_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    made: set[str] = set()
    for path in paths:
        parts = [p for p in path.split("/") if p][:-1]
        for depth in range(1, len(parts) + 1):  # bwrap would create these mode 0700
            parent = "/" + "/".join(parts[:depth])
            if parent not in made and not os.path.islink(parent) and not _inside(parent, list(_SYSTEM_DIRS)):
                args += ["--perms", "0755", "--dir", parent]
                made.add(parent)
        args += ["--ro-bind", path, path]
    args += ["--remount-ro", "/",
             "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp",
             "--setenv", "LANG", "C.UTF-8", "--setenv", "OMP_NUM_THREADS", "1", "--chdir", "/",
             sys.executable, "-I", "-S", "-c", BOOT, json.dumps(config)]
    return args


def _exit_status_killed() -> int:
    return int(signal.SIGKILL)


class SandboxLauncher:
    """Runs each job in a child of one warm zygote inside bubblewrap; reusable for any
    number of jobs, from several threads at once. Falls back to process mode (for good)
    when bwrap is missing or its sandbox does not start.

    Interface (see runner.py): `.isolation`, `.start(job, limits) -> (handle, result_fd,
    output_fd)`, `.poll(handle)`, `.release(handle)`; plus `prestart()`, `close()`,
    `helper_pids()` and `fallback_reason`.
    """

    def __init__(self, bwrap: str | None = None, *, required: bool = False) -> None:
        self.bwrap = bwrap if bwrap is not None else bwrap_path()
        self.required = required
        self.fallback_reason: str | None = None if self.bwrap else "bubblewrap (bwrap) is not installed"
        self.zygote_starts = 0
        self._lock = threading.RLock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._ready = False
        self._exits: dict[int, int] = {}
        self.peak_rss_kb = 0
        """The largest peak resident set of a job this sandbox ran (the zygote reports it)."""
        self._live: set[int] = set()
        self._next = HANDLE_BASE
        self._fallback: Any = None
        self._owner = os.getpid()
        self._started_at = 0.0
        self.warm_s: float | None = None
        _INSTANCES.add(self)

    @property
    def isolation(self) -> str:
        return "process" if self.fallback_reason else "bwrap"

    @property
    def warming(self) -> bool:
        """The zygote has been started and is still importing torch."""
        return self._sock is not None and not self._ready and os.getpid() == self._owner

    # ---------------------------------------------------------------- lifecycle

    def prestart(self) -> None:
        """Start the zygote now (it imports torch in parallel with the caller); returns at once."""
        with self._lock:
            self._check_owner()
            if self._sock is None and self.fallback_reason is None:
                try:
                    self._spawn()
                except OSError as exc:
                    self._fail(f"bwrap could not be started: {exc}")

    @classmethod
    def attached(cls, sock: socket.socket) -> SandboxLauncher:
        """A launcher in another process (a batch worker) that uses the zygote behind `sock`,
        from `attach()`. If that zygote goes away, the launcher starts one of its own."""
        launcher = cls()
        launcher._sock = sock
        launcher._started_at = time.monotonic()
        return launcher

    def attach(self) -> socket.socket | None:
        """A new control socket to this sandbox's zygote, for a process forked from this one
        (see `attached`); None when there is no sandbox. The zygote answers `ready` on it
        once it has imported torch."""
        with self._lock:
            self.prestart()
            if self._sock is None:
                return None
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                socket.send_fds(self._sock, [json.dumps({"op": "attach"}).encode()], [theirs.fileno()])
            except OSError:
                ours.close()
                return None
            finally:
                theirs.close()
            return ours

    def ready(self) -> str:
        """Start the sandbox if needed and wait until it takes jobs; returns the isolation."""
        with self._lock:
            self.prestart()
            if self._sock is not None and not self._ready:
                self._wait_ready()
            return self.isolation

    def _spawn(self) -> None:
        # --die-with-parent ties the sandbox to the thread that starts it: started from a
        # thread that ends, it ends too, and the next job starts a new one.
        assert self.bwrap is not None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._proc = subprocess.Popen(bwrap_command(self.bwrap, theirs.fileno()), pass_fds=[theirs.fileno()],
                                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE, start_new_session=True)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._sock = ours
        self._ready = False
        self._started_at = time.monotonic()
        self.zygote_starts += 1

    def _wait_ready(self) -> None:
        assert self._sock is not None
        deadline = self._started_at + READY_TIMEOUT_S
        while not self._ready:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._sock], [], [], left)[0]:
                self._fail(f"the sandbox did not start within {READY_TIMEOUT_S:g} s")
                return
            if not self._drain():
                return

    def _stderr_tail(self) -> str:
        proc = self._proc
        if proc is None or proc.stderr is None:
            return ""
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
        try:
            if select.select([proc.stderr], [], [], 0)[0]:
                text = os.read(proc.stderr.fileno(), 8192).decode("utf-8", "replace").strip()
                return text.splitlines()[-1] if text else ""
        except OSError:
            pass
        return ""

    def _fail(self, reason: str) -> None:
        """The sandbox cannot be used in this process: process mode from now on."""
        detail = self._stderr_tail()
        self._teardown()
        self.fallback_reason = f"{reason}: {detail}" if detail else reason
        if self.required:
            raise SandboxError(f"{ISOLATION_ENV}=bwrap, but {self.fallback_reason}")

    def _teardown(self) -> None:
        """Stop the zygote (and with it every job it runs)."""
        sock, proc = self._sock, self._proc
        self._sock, self._proc, self._ready = None, None, False
        if sock is not None:
            sock.close()
        if proc is not None:
            try:
                proc.kill()
            except OSError:
                pass
            try:
                proc.wait(timeout=KILL_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
            if proc.stderr is not None:
                proc.stderr.close()
        for handle in self._live:
            self._exits.setdefault(handle, _exit_status_killed())

    def close(self, wait: bool = True) -> None:
        """Hang up: the zygote kills its jobs and exits. Without `wait` (at interpreter exit),
        the sandbox is killed and not waited for: it dies with its parent anyway."""
        with self._lock:
            if os.getpid() != self._owner:
                return
            sock, proc = self._sock, self._proc
            if sock is not None:
                sock.close()
                self._sock = None
            if not wait:
                if proc is not None:
                    try:
                        proc.kill()
                    except OSError:
                        pass
                    proc.returncode = -signal.SIGKILL  # not waited for: no warning about it either
                self._proc = None
                return
            if proc is not None:
                try:
                    proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    pass
            self._teardown()

    def helper_pids(self) -> set[int]:
        """The sandbox's own long-lived processes (bwrap and the zygote), as seen from here."""
        with self._lock:
            proc = self._proc
        if proc is None or proc.poll() is not None:
            return set()
        found = {proc.pid}
        try:
            import psutil

            found.update(p.pid for p in psutil.Process(proc.pid).children(recursive=True))
        except (ImportError, Exception):  # noqa: BLE001 - psutil.Error, or gone meanwhile
            pass
        return found

    def _check_owner(self) -> None:
        if os.getpid() != self._owner:  # a forked copy: the zygote belongs to the parent
            _forget(self)

    # ---------------------------------------------------------------- messages

    def _drain(self) -> bool:
        """Read every waiting message; False when the zygote has gone."""
        while self._sock is not None:
            try:
                data = self._sock.recv(1 << 16, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return True
            except OSError:
                data = b""
            if not data:
                if not self._ready:
                    self._fail("the sandbox exited while starting")
                else:
                    self._teardown()  # died under us: its jobs are reported killed
                return False
            try:
                message = json.loads(data)
            except ValueError:
                continue
            if message.get("event") == "ready":
                self._ready = True
                self.warm_s = message.get("warm_s")
            elif message.get("event") == "exit":
                if type(message.get("maxrss_kb")) is int:  # also of a job already released
                    self.peak_rss_kb = max(self.peak_rss_kb, message["maxrss_kb"])
                if message.get("id") in self._live:
                    status = message.get("status")
                    self._exits[message["id"]] = status if type(status) is int else _exit_status_killed()
        return False

    # ---------------------------------------------------------------- launcher interface

    def start(self, job: dict[str, Any], limits: Any) -> tuple[int, int, int]:
        with self._lock:
            self._check_owner()
            spawned = 0
            while self.fallback_reason is None:
                if self._sock is None:
                    if spawned == 2:  # a zygote that died since the last job is replaced, once
                        self._fail("the sandbox stopped working")
                        break
                    spawned += 1
                    self.prestart()
                elif not self._ready:
                    self._wait_ready()
                else:
                    started = self._send_job(job, limits)
                    if started is not None:
                        return started
                    self._teardown()
            return self._process_mode().start(job, limits)

    def _send_job(self, job: dict[str, Any], limits: Any) -> tuple[int, int, int] | None:
        import dataclasses

        from grader import wire

        assert self._sock is not None
        payload = wire.pack(job)
        memfd = os.memfd_create("grader-job", os.MFD_CLOEXEC)
        res_r, res_w = os.pipe()
        out_r, out_w = os.pipe()
        handle = self._next
        self._next += 1
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(memfd, view):]
            os.lseek(memfd, 0, os.SEEK_SET)
            header = json.dumps({"op": "start", "id": handle, "limits": dataclasses.asdict(limits)}).encode()
            socket.send_fds(self._sock, [header], [memfd, res_w, out_w])
        except OSError:
            for fd in (res_r, out_r):
                os.close(fd)
            return None
        finally:
            for fd in (memfd, res_w, out_w):
                os.close(fd)
        self._live.add(handle)
        return handle, res_r, out_r

    def _process_mode(self) -> Any:
        if self._fallback is None:
            from grader.runner import ForkLauncher

            self._fallback = ForkLauncher()
        return self._fallback

    def peak_rss(self) -> int:
        """The largest peak resident set (KiB) of the jobs whose exit the zygote has reported
        so far (children in the sandbox are not the worker's: its rusage cannot see them)."""
        with self._lock:
            self._drain()
        return self.peak_rss_kb

    def poll(self, handle: int) -> int | None:
        if handle < HANDLE_BASE:
            return self._process_mode().poll(handle)
        with self._lock:
            if handle not in self._exits:
                self._drain()
            return self._exits.get(handle)

    def release(self, handle: int, wait: bool = True) -> None:
        """Kill what is left of the job (its PID namespace) and forget it. With `wait`, give
        the kernel a moment to tear it down before the next job (its exit is reported)."""
        if handle < HANDLE_BASE:
            self._process_mode().release(handle, wait)
            return
        deadline = time.monotonic() + (RELEASE_WAIT_S if wait else 0.0)
        asked = False
        while True:
            with self._lock:
                if (handle in self._exits or handle not in self._live or self._sock is None
                        or (asked and time.monotonic() > deadline)):
                    self._exits.pop(handle, None)
                    self._live.discard(handle)
                    return
                if not asked:
                    try:
                        self._sock.send(json.dumps({"op": "kill", "id": handle}).encode())
                    except OSError:
                        self._teardown()
                        continue
                    asked = True
                self._drain()
                sock = self._sock
            if sock is not None and wait:
                try:
                    select.select([sock], [], [], 0.05)
                except (OSError, ValueError):
                    pass


_INSTANCES: weakref.WeakSet[SandboxLauncher] = weakref.WeakSet()
_SHARED: dict[int, SandboxLauncher] = {}


def _forget(launcher: SandboxLauncher) -> None:
    """In a forked process: the copy must neither use nor keep the parent's zygote socket."""
    if launcher._sock is not None:
        try:
            launcher._sock.close()
        except OSError:
            pass
    launcher._sock = None
    launcher._proc = None
    launcher._ready = False
    launcher._exits = {}
    launcher._live = set()
    launcher._fallback = None
    launcher._lock = threading.RLock()
    launcher._owner = os.getpid()


def _after_fork_in_child() -> None:
    for launcher in list(_INSTANCES):
        if launcher._owner != os.getpid():
            _forget(launcher)
    _SHARED.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def _close_all() -> None:
    for launcher in list(_INSTANCES):
        try:
            launcher.close(wait=False)
        except Exception:  # noqa: BLE001, S110 - exiting anyway
            pass


def shared_launcher() -> SandboxLauncher | None:
    """This process's sandbox launcher, or None when process mode is asked for or bwrap is
    missing (and not required)."""
    mode = isolation_mode()
    if mode == "process":
        return None
    launcher = _SHARED.get(os.getpid())
    if launcher is None:
        path = bwrap_path()
        if path is None:
            if mode == "bwrap":
                raise SandboxError(f"{ISOLATION_ENV}=bwrap, but bubblewrap (bwrap) is not installed; "
                                   "install it (Debian/Ubuntu: apt-get install bubblewrap)")
            return None
        launcher = SandboxLauncher(path, required=mode == "bwrap")
        _SHARED[os.getpid()] = launcher
    return launcher


def prestart() -> None:
    """Start this process's sandbox early (the CLI calls it before importing torch)."""
    try:
        launcher = shared_launcher()
    except SandboxError:
        return  # reported when grading starts
    if launcher is not None:
        launcher.prestart()
