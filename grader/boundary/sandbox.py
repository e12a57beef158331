"""The bubblewrap sandbox: where student code runs when `bwrap` is available.

One warm process per launcher, the zygote (`zygote.py`), runs inside bwrap
with no network, its own PID, IPC and UTS namespaces, an empty environment,
a read-only view of the system libraries and of Python (only the directories
Python needs are bound: the interpreter's prefix and this package, nothing of
the course: no solutions/, no exercises/ with their hidden cases, no
workspace, no other submission) and a tmpfs /tmp. It imported torch once and
forks one child per job; each child is process 1 of a PID namespace of its
own, with a private /tmp, an unprivileged uid, no capabilities and the same
resource limits as process mode (see `jail.confine_sandbox_child`).

The job (source text and inputs) travels in a memfd, and the child's result
and output pipes as file descriptors, over a Unix socket (SCM_RIGHTS): no
path of the grader's is ever given to the sandbox.

If bwrap is missing or the sandbox does not start, the launcher falls back to
process mode (`ForkLauncher`: the same zygote, started without bwrap) and reports
`isolation: process`. GRADER_ISOLATION=process skips the sandbox;
GRADER_ISOLATION=bwrap makes a sandbox that cannot start an error instead;
GRADER_ISOLATION=none grades even where no child can leave root (reports say so).

Nothing here imports torch at import time: `prestart()` launches the sandbox
while the grader is still importing torch itself.
"""

from __future__ import annotations

import atexit
import glob
import json
import os
import queue
import secrets
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from grader.boundary import confine
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
FORK_HANDLE_BASE = 1 << 40
"""Process-mode job handles: a sandbox that fell back to process mode tells them apart."""
_ZYGOTE_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
               "PYTORCH_NVML_BASED_CUDA_CHECK": "1"}
"""A zygote's whole environment (bwrap's is cleared and set to the same). The NVML check:
`torch.cuda.is_available()` asked through the CUDA runtime before a fork leaves every forked
child unable to use CUDA ("Cannot re-initialize CUDA in forked subprocess"); asked through
NVML, the children start CUDA themselves (seen on an H200)."""
_GPU_ENV = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES")
"""Kept from the grader's environment: which GPUs the grader may use. Of LD_LIBRARY_PATH only
the folders that hold the driver's library (libcuda) are kept, and bound into the sandbox:
some images find it only that way, and no other folder (the course's, say) comes along."""
_GPU_DEVICES = "/dev/nvidia*"
"""NVIDIA's device nodes: bound into the sandbox where they exist, with /sys read-only (as
container runtimes give a GPU), so that children can check `cuda` (checked on an H200)."""
_ROOT_CAPS = ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_KILL")
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd",
              "/etc/group", "/etc/nsswitch.conf")
BOOT = ("import sys, json; c = json.loads(sys.argv[1]); sys.path[:] = c['path']; "
        "from grader.boundary.zygote import main; main(c)")


class SandboxError(GraderError):
    """The isolation asked for cannot run here (GRADER_ISOLATION=bwrap without a working
    sandbox), or no child could be confined at all: the grader refuses (exit code 2)."""


NO_ISOLATION_HELP = (
    "To get isolation: let bubblewrap start (Docker: `docker run --security-opt seccomp=unconfined "
    "--cap-add SYS_ADMIN ...`, or `--privileged`), or run the grader as an ordinary user with user "
    f"namespaces allowed. To grade code you trust without isolation: {ISOLATION_ENV}=none (every report "
    "then says `isolation: none`).")


def isolation_mode() -> str:
    mode = os.environ.get(ISOLATION_ENV, "auto").strip().lower() or "auto"
    if mode not in ("auto", "bwrap", "process", "none"):
        raise SandboxError(f"{ISOLATION_ENV}={mode!r}: use auto, bwrap, process or none")
    return mode


def bwrap_path() -> str | None:
    return shutil.which("bwrap") if confine.LINUX else None


def _inside(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def zygote_env() -> dict[str, str]:
    """The environment a zygote starts with, in either mode."""
    env = dict(_ZYGOTE_ENV)
    env.update((name, os.environ[name]) for name in _GPU_ENV if name in os.environ)
    driver = [p for p in os.environ.get("LD_LIBRARY_PATH", "").split(":")
              if os.path.isabs(p) and glob.glob(os.path.join(glob.escape(p), "libcuda.so*"))]
    if driver:
        env["LD_LIBRARY_PATH"] = ":".join(driver)
    return env


def gpu_devices() -> list[str]:
    """NVIDIA's device nodes on this machine (none without an NVIDIA GPU)."""
    return sorted(p for p in glob.glob(_GPU_DEVICES) if stat.S_ISCHR(os.stat(p).st_mode))


def bwrap_command(bwrap: str, control_fd: int) -> list[str]:
    """The bwrap command line that starts a zygote serving on `control_fd`."""
    root = os.geteuid() == 0
    paths = confine.python_paths()
    config = zygote_config(control_fd, "bwrap")
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
    gpus = gpu_devices()
    for node in gpus:
        args += ["--dev-bind", node, node]
    if gpus:
        args += ["--ro-bind-try", "/sys", "/sys"]
    env = zygote_env()
    library_dirs = [p for p in env.get("LD_LIBRARY_PATH", "").split(":") if p]
    for top in _SYSTEM_DIRS:
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for path in _ETC_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    made: set[str] = set()
    for path in [*paths, *(d for d in library_dirs if not _inside(d, [*_SYSTEM_DIRS, *paths]))]:
        parts = [p for p in path.split("/") if p][:-1]
        for depth in range(1, len(parts) + 1):  # bwrap would create these mode 0700
            parent = "/" + "/".join(parts[:depth])
            if parent not in made and not os.path.islink(parent) and not _inside(parent, list(_SYSTEM_DIRS)):
                args += ["--perms", "0755", "--dir", parent]
                made.add(parent)
        args += ["--ro-bind", path, path]
    args += ["--remount-ro", "/", "--clearenv"]
    for name, value in env.items():
        args += ["--setenv", name, value]
    args += ["--chdir", "/", sys.executable, "-I", "-S", "-c", BOOT, json.dumps(config)]
    return args


def _exit_status_killed() -> int:
    return int(signal.SIGKILL)


def zygote_config(control_fd: int, isolation: str) -> dict[str, Any]:
    """What a zygote needs to know: its control socket, where Python finds the grader (only
    the directories of the Python installation and this package: nothing of the course),
    and whether it hands out unused uids (as root). `uid_seed` is random: job uids of two
    graders on one machine do not meet, and one grader's never wrap while it lives."""
    paths = confine.python_paths()
    package_parent = os.path.dirname(confine.PACKAGE_DIR)
    sys_path = [p for p in (os.path.abspath(p) for p in sys.path if p) if _inside(p, paths)]
    return {"fd": control_fd, "path": [*sys_path, package_parent], "root": os.geteuid() == 0,
            "uid_seed": secrets.randbelow(confine.JOB_UID_COUNT), "isolation": isolation,
            "many_jobs": _many_jobs}


def process_command(control_fd: int, isolation: str = "process") -> list[str]:
    """The command that starts a process-mode zygote: a fresh interpreter, never a fork of the
    grader, so that no child can find a reference solution in its memory."""
    return [sys.executable, "-I", "-S", "-c", BOOT, json.dumps(zygote_config(control_fd, isolation))]


R = TypeVar("R")


class _Keeper:
    """Starts every zygote from a thread that lives as long as the process. `--die-with-parent`
    (PR_SET_PDEATHSIG) fires when the *thread* that started the zygote ends, not the process:
    a zygote started by a grading thread that then ended took every other thread's running
    jobs with it ("your code was killed" for correct code)."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], dict[str, Any], threading.Event]] = \
            queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def call(self, fn: Callable[[], R]) -> R:
        if threading.current_thread() is threading.main_thread():
            return fn()  # the main thread lives as long as the process
        with self._lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._jobs, self._pid = queue.SimpleQueue(), os.getpid()  # none inherited from a fork
                self._thread = threading.Thread(target=self._serve, name="grader-zygote-keeper", daemon=True)
                self._thread.start()
            jobs = self._jobs
        box: dict[str, Any] = {}
        done = threading.Event()
        jobs.put((fn, box, done))
        done.wait()
        if "error" in box:
            raise box["error"]
        result: R = box["value"]
        return result

    def _serve(self) -> None:
        jobs = self._jobs
        while True:
            fn, box, done = jobs.get()
            try:
                box["value"] = fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                box["error"] = exc
            done.set()


_KEEPER = _Keeper()


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
        self.kind = "bwrap"
        """What the zygote runs under: `bwrap`, or (`ForkLauncher`, or a zygote attached to one)
        `process` or `none`."""
        self.zygote_starts = 0
        self._lock = threading.RLock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._ready = False
        self._exits: dict[int, int] = {}
        self._live: set[int] = set()
        self._lost: set[int] = set()
        """Jobs whose zygote died under them (see `lost`)."""
        self._next = self.handle_base
        self._fallback: ForkLauncher | None = None
        self._cgroups: confine.JobCgroups | None = None
        self._cgroups_tried = False
        self._groups: dict[int, str] = {}
        self._filter = ""
        self._owner = os.getpid()
        self._started_at = 0.0
        self.warm_s: float | None = None
        self.peak_child_rss_kb = 0
        """The largest peak resident set of a job's child so far (its zygote reports it)."""
        _INSTANCES.add(self)

    handle_base = HANDLE_BASE

    @property
    def isolation(self) -> str:
        if self.fallback_reason:
            return self._fallback.isolation if self._fallback is not None else "process"
        return self.kind

    @property
    def warming(self) -> bool:
        """The zygote has been started and is still importing torch."""
        if self._fallback is not None:
            return self._fallback.warming
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
                    self._fail(f"{self.kind} could not be started: {exc}")
            elif self._fallback is not None:
                self._fallback.prestart()

    @classmethod
    def attached(cls, sock: socket.socket) -> SandboxLauncher:
        """A launcher in another process (a batch worker) that uses the zygote behind `sock`,
        from `attach()`. If that zygote goes away, the launcher starts one of its own."""
        launcher = cls()
        launcher.fallback_reason = None
        if launcher.bwrap is None:
            launcher.kind = "process"  # until the zygote says (`ready`)
        launcher._sock = sock
        launcher._started_at = time.monotonic()
        return launcher

    def attach(self) -> socket.socket | None:
        """A new control socket to this sandbox's zygote, for a process forked from this one
        (see `attached`); None when there is no sandbox. The zygote answers `ready` on it
        once it has imported torch."""
        with self._lock:
            self.prestart()
            if self.fallback_reason is not None:
                return self._process_mode().attach()
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
            if self.fallback_reason is not None:
                return self._process_mode().ready()
            if self._sock is not None and not self._ready:
                self._wait_ready()
            return self.isolation

    def _command(self, control_fd: int) -> list[str]:
        if self.kind == "bwrap":
            assert self.bwrap
            return bwrap_command(self.bwrap, control_fd)
        return process_command(control_fd, self.kind)

    def _spawn(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            command = self._command(theirs.fileno())
            self._proc = _KEEPER.call(lambda: subprocess.Popen(
                command, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, start_new_session=True, env=zygote_env(), cwd="/"))
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
            if handle not in self._exits:
                self._lost.add(handle)  # its zygote went away under it: not the job's own doing
            self._exits.setdefault(handle, _exit_status_killed())

    def lost(self, handle: int) -> bool:
        """Whether this job's zygote died (or was stopped) while the job ran: the runner
        runs it again once on a fresh zygote, then calls it the grader's error."""
        if handle >= FORK_HANDLE_BASE > self.handle_base:
            return self._process_mode().lost(handle)
        with self._lock:
            return handle in self._lost

    def close(self, wait: bool = True) -> None:
        """Hang up: the zygote kills its jobs and exits. Without `wait` (at interpreter exit),
        the sandbox is killed and not waited for: it dies with its parent anyway."""
        with self._lock:
            if os.getpid() != self._owner:
                return
            if self._fallback is not None:
                self._fallback.close(wait)
            if self._cgroups is not None:
                for handle in list(self._groups):
                    self._end_cgroup(handle)
                self._cgroups.close()
                self._cgroups = None
            sock, proc = self._sock, self._proc
            if sock is not None:
                sock.close()
                self._sock = None
            if not wait:
                if proc is not None and self.kind != "bwrap":  # it cleans up after its jobs, then exits
                    proc.returncode = 0
                elif proc is not None:
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
            proc, fallback = self._proc, self._fallback
        if fallback is not None:
            return fallback.helper_pids()
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
                if message.get("isolation") in ("bwrap", "process", "none"):
                    self.kind = message["isolation"]
                self._filter = str(message.get("system_call_filter") or "")
            elif message.get("event") == "exit":
                rss = message.get("maxrss_kb")  # also of a job released before its exit came
                if type(rss) is int:
                    self.peak_child_rss_kb = max(self.peak_child_rss_kb, rss)
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

        from grader.boundary import wire

        assert self._sock is not None
        payload = wire.pack(job)
        memfd = os.memfd_create("grader-job", os.MFD_CLOEXEC)
        res_r, res_w = os.pipe()
        out_r, out_w = os.pipe()
        handle = self._next
        self._next += 1
        sent = [memfd, res_w, out_w]
        group = self._job_cgroup(limits)
        if group is not None:
            self._groups[handle] = group[0]
            sent.append(group[1])
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(memfd, view):]
            os.lseek(memfd, 0, os.SEEK_SET)
            header = json.dumps({"op": "start", "id": handle, "limits": dataclasses.asdict(limits)}).encode()
            socket.send_fds(self._sock, [header], sent)
        except OSError:
            for fd in (res_r, out_r):
                os.close(fd)
            self._end_cgroup(handle)
            return None
        finally:
            for fd in sent:
                os.close(fd)
        self._live.add(handle)
        return handle, res_r, out_r

    def _job_cgroup(self, limits: Any) -> tuple[str, int] | None:
        """A cgroup v2 for the job where this grader can make one (see `confine.JobCgroups`)."""
        if not self._cgroups_tried:
            self._cgroups_tried = True
            self._cgroups = confine.JobCgroups.create()
        if self._cgroups is None:
            return None
        try:
            return self._cgroups.new_job(limits.memory_mb, limits.processes)
        except OSError:
            return None

    def _end_cgroup(self, handle: int) -> None:
        folder = self._groups.pop(handle, None)
        if folder is not None and self._cgroups is not None:
            self._cgroups.end_job(folder)

    @property
    def walls(self) -> dict[str, str]:
        """What held every job of this launcher, for the reports: how memory and processes were
        counted (the whole job in a cgroup v2, or each process by resource limits), and the
        system call filter (or why there was none)."""
        if self._fallback is not None:
            return self._fallback.walls
        whole = self._cgroups is not None
        return {"held_by": "cgroup v2 per job (memory and processes of the whole job)" if whole
                else "resource limits (memory per process, processes per job uid)",
                "system_call_filter": self._filter or "unknown"}

    def _process_mode(self) -> ForkLauncher:
        """Where bwrap cannot run: process mode, or a refusal (see `ForkLauncher`)."""
        if self._fallback is None:
            self._fallback = ForkLauncher()
        return self._fallback

    def poll(self, handle: int) -> int | None:
        if handle >= FORK_HANDLE_BASE > self.handle_base:
            return self._process_mode().poll(handle)
        with self._lock:
            if handle not in self._exits:
                self._drain()
            return self._exits.get(handle)

    def release(self, handle: int, wait: bool = True) -> None:
        """Kill what is left of the job (its PID namespace) and forget it. With `wait`, give
        the kernel a moment to tear it down before the next job (its exit is reported)."""
        if handle >= FORK_HANDLE_BASE > self.handle_base:
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
                    self._lost.discard(handle)
                    self._end_cgroup(handle)
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


class ForkLauncher(SandboxLauncher):
    """Process mode: each job is a child forked from a zygote that runs without bubblewrap.

    The zygote is a fresh interpreter started before any grading (never a fork of the
    grader), so no child finds a reference solution or a hidden expected value in its
    memory, whatever task killed its predecessor. As root, each child is process 1 of its
    own PID namespace with its own mount and IPC namespaces and /proc, sees every mount
    read-only except a private /tmp, and runs under an unused uid without capabilities;
    without CAP_SYS_ADMIN (a container) it leaves root first and confines itself as that
    uid would, through a user namespace where the kernel allows one. Not as root, the
    same through a user namespace. No child keeps uid 0 or a capability: where that
    cannot be promised (root without CAP_SETUID), the launcher refuses (SandboxError),
    unless `unconfined` (GRADER_ISOLATION=none: reports say `isolation: none`).
    """

    handle_base = FORK_HANDLE_BASE

    def __init__(self, *, unconfined: bool = False) -> None:
        problem = confine.privilege_problem()
        if problem and not unconfined:
            raise SandboxError(f"cannot confine student code here: {problem}, so every submission would run "
                               f"as root. {NO_ISOLATION_HELP}")
        super().__init__("", required=True)
        self.fallback_reason = None
        self.kind = "none" if unconfined else "process"

    def start(self, job: dict[str, Any], limits: Any) -> tuple[int, int, int]:
        _harden_parent()
        return super().start(job, limits)

    def _fail(self, reason: str) -> None:
        detail = self._stderr_tail()
        self._teardown()
        raise SandboxError(f"process mode could not start its zygote: {reason}" + (f": {detail}" if detail else ""))

    def _process_mode(self) -> ForkLauncher:
        raise SandboxError("process mode has no fallback")


def _harden_parent() -> None:
    """A child that shares our uid (process mode, not root, no user namespace) must not open
    /proc/<grader>/fd or /proc/<grader>/mem (a fake report on our stdout, our memory)."""
    try:
        confine.set_dumpable(False)
    except OSError:
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
    launcher._lost = set()
    launcher._fallback = None
    launcher._cgroups = None  # the parent's: its folders are not ours to remove
    launcher._cgroups_tried = False
    launcher._groups = {}
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


def shared_launcher() -> SandboxLauncher:
    """This process's launcher, one per process, reused for every job: the bubblewrap sandbox
    where it is available (unless GRADER_ISOLATION asks for `process` or `none`), else
    process mode. Raises SandboxError where no child could be confined (see `ForkLauncher`)."""
    mode = isolation_mode()
    launcher = _SHARED.get(os.getpid())
    if launcher is None:
        path = bwrap_path()
        if mode in ("process", "none") or (path is None and mode == "auto"):
            launcher = ForkLauncher(unconfined=mode == "none")
        elif path is None:
            raise SandboxError(f"{ISOLATION_ENV}=bwrap, but bubblewrap (bwrap) is not installed; "
                               "install it (Debian/Ubuntu: apt-get install bubblewrap)")
        else:
            launcher = SandboxLauncher(path, required=mode == "bwrap")
        _SHARED[os.getpid()] = launcher
    return launcher


default_launcher = shared_launcher


_many_jobs = False
"""This process grades a class (`grade batch`): its zygote backs its heap with huge pages while
it warms up, not on the first worker's attach (confine.collapse_into_huge_pages)."""


def prestart(many_jobs: bool = False) -> None:
    """Start this process's sandbox early (the CLI calls it before importing torch);
    `many_jobs`: for `grade batch`, whose forks the zygote makes cheaper before it is ready
    (about 0.3 s that a single grading would wait for)."""
    global _many_jobs
    _many_jobs = _many_jobs or many_jobs
    try:
        launcher = shared_launcher()
    except SandboxError:
        return  # reported when grading starts
    launcher.prestart()
