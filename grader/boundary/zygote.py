"""Inside the bubblewrap sandbox: the warm process that forks one child per job.

Started by `sandbox.SandboxLauncher` (see there for the sandbox itself). It
imports torch and pre-warms once, makes itself non-dumpable, then serves the
grader on a Unix socket (and on the sockets of batch workers that `attach`):
each `start` message brings the job in a memfd and the child's two pipes as
file descriptors; the zygote forks the child as
process 1 of a PID namespace of its own and reports its exit status. It never
runs student code, and reads nothing from a job before forking.
"""

from __future__ import annotations

import gc
import json
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, NoReturn

IDLE_WARM_S = 0.3
"""How long the zygote waits, idle after a job, before loading what only some children use
(`child.prewarm_idle`); a job that arrives meanwhile is served first."""


def _send(ctl: socket.socket, message: dict[str, Any]) -> None:
    try:
        ctl.send(json.dumps(message).encode())
    except OSError:
        pass


@dataclass
class _Walls:
    """What this zygote gives every job, prepared once before any job (see `main`)."""

    isolation: str
    """`bwrap`, `process`, or `none` (GRADER_ISOLATION=none: confined as far as possible, but
    a child that could not leave root is not refused)."""
    root: bool
    uid_seed: int
    netns: int | None = None
    seccomp: dict[bool, Any] = field(default_factory=dict)
    """Two filters: with and without System V IPC (denied where a job has no IPC namespace)."""
    filter_note: str = ""
    """`on`, or why there is no system call filter (reports say it)."""

    @property
    def process_mode(self) -> bool:
        return self.isolation != "bwrap"


@dataclass
class _Job:
    ident: Any
    pidfd: int | None
    owner: socket.socket
    uid: int | None
    pid_namespace: bool
    workdir: str | None


def _job_child(controls: list[socket.socket], fds: list[int], limits_data: dict[str, Any], walls: _Walls,
               uid: int | None, workdir: str | None, profiler: Any) -> NoReturn:
    from grader.boundary import confine, jail, wire

    try:
        gc.freeze()  # a collection must not touch (and copy) every page shared with the zygote
        for ctl in controls:  # the job must not speak for the grader
            ctl.close()
        os.setsid()
        if len(fds) == 4:  # the job's own cgroup: joined before anything else
            confine.join_cgroup(fds.pop())
        memfd, res_w, out_w = fds
        confine.set_parent_death_signal(signal.SIGKILL)
        with os.fdopen(memfd, "rb") as f:
            job = wire.unpack(f.read(), grads=True)
        limits = jail.Limits(**limits_data)
        job["cuda_memory_mb"] = limits.memory_mb if limits.cuda else 0  # child._start_cuda: 0, no cuda
        jail.redirect_stdio(out_w)
        jail.close_fds_except(res_w, walls.netns)
        try:
            if not walls.process_mode:
                confined = jail.confine_sandbox_child(limits, uid)
            elif uid is not None:
                assert workdir is not None
                confined = jail.confine_root_child(limits, uid, workdir, jail._python_paths(), walls.netns)
            else:
                assert workdir is not None
                confined = jail.confine_user_child(limits, workdir)
        except OSError:
            if walls.isolation != "none" or workdir is None:
                raise
            jail._apply_limits(limits)  # GRADER_ISOLATION=none: the limits, and what could be dropped
            confine.set_no_new_privs()
            confined = jail.Confined(workdir)
        problem = confine.still_privileged()
        if problem and walls.isolation != "none":
            os.write(2, f"grader: refusing to run this submission: {problem}\n".encode())
            os._exit(71)
        seccomp = walls.seccomp.get(not confined.ipc_namespace)
        if seccomp is not None:
            seccomp.load()
        jail.run_child(job, res_w, confined.home, profiler)
    finally:
        os._exit(70)


def _fork_job(walls: _Walls) -> tuple[int, bool]:
    """Fork a job's child: process 1 of a PID namespace of its own where the kernel allows it
    (process mode without CAP_SYS_ADMIN: a plain fork, whose processes are found by uid or
    session when the job ends)."""
    from grader.boundary import confine, shield

    shield.list_grader_modules()  # for the child's `hide_modules`; a walk only when modules were added
    try:
        return confine.fork_into_new_pid_namespace(), True
    except OSError:
        if not walls.process_mode:
            raise
    return os.fork(), False


def _end_job(pid: int, job: _Job) -> None:
    """Kill whatever is left of a job. Process 1 of a PID namespace takes everything inside
    with it; without one, its session, and every process of its unused uid."""
    from grader.boundary import confine, jail

    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if not job.pid_namespace:
        jail._kill_session(pid)
        if job.uid is not None:
            confine.kill_uid(job.uid)


def _clean_up(job: _Job) -> None:
    """After a job: its folder, and (where it had no namespaces to take them away) whatever
    its uid left in the host's shared places."""
    from grader.boundary import confine

    if not job.pid_namespace and job.uid is not None:
        confine.kill_uid(job.uid)
        confine.remove_traces(job.uid)
    if job.workdir is not None:
        shutil.rmtree(job.workdir, ignore_errors=True)


def _serve(ctl: socket.socket, walls: _Walls, warm_s: float, profiler: Any) -> None:
    """Serve jobs until the grader that started the zygote hangs up.

    `ctl` belongs to that grader; an `attach` message brings another control socket (a batch
    worker forked from the grader shares this zygote instead of starting its own). Each job's
    exit is reported on the socket that started it, and a socket that closes takes its jobs
    with it.
    """
    from grader.boundary import child, confine, jail

    controls = [ctl]
    jobs: dict[int, _Job] = {}
    serial = 0
    ready_message = {"event": "ready", "warm_s": warm_s, "isolation": walls.isolation,
                     "system_call_filter": walls.filter_note}

    warmed = False  # child.prewarm_idle: once a job has been served and nothing is running
    while True:
        waitable: list[Any] = [j.pidfd for j in jobs.values() if j.pidfd is not None]
        may_warm = not warmed and serial > 0 and not jobs
        timeout = IDLE_WARM_S if may_warm else None if len(waitable) == len(jobs) else 0.02
        ready = select.select([*controls, *waitable], [], [], timeout)[0]
        if may_warm and not ready:
            warmed = True
            try:
                child.prewarm_idle()
            except Exception:  # noqa: BLE001  (a warm-up that fails leaves the children to load it)
                pass
            continue
        for source in [c for c in controls if c in ready]:
            try:
                data, fds, _, _ = socket.recv_fds(source, 1 << 16, 4)
            except OSError:
                data, fds = b"", []
            if not data:
                if source is ctl:
                    for pid, job in jobs.items():
                        _end_job(pid, job)
                    for pid, job in jobs.items():
                        jail._reap(pid, 1.0)
                        _clean_up(job)
                    return
                controls.remove(source)
                for pid, job in jobs.items():
                    if job.owner is source:
                        _end_job(pid, job)
                source.close()
                continue
            try:
                message = json.loads(data)
            except ValueError:
                message = {}
            op = message.get("op")
            if op == "attach" and len(fds) == 1:
                attached = socket.socket(fileno=fds[0])
                controls.append(attached)
                if len(controls) == 2:  # a batch's first worker: many jobs to come, forks made cheap first
                    confine.collapse_into_huge_pages()
                _send(attached, ready_message)
            elif op == "start" and len(fds) in (3, 4):
                serial += 1
                uid = confine.job_uid(walls.uid_seed, serial) if walls.root else None
                workdir = tempfile.mkdtemp(prefix="grader-job-") if walls.process_mode else None
                try:
                    pid, pid_namespace = _fork_job(walls)
                except OSError as exc:
                    for fd in fds:
                        os.close(fd)
                    if workdir is not None:
                        shutil.rmtree(workdir, ignore_errors=True)
                    _send(source, {"event": "exit", "id": message.get("id"), "status": 70 << 8,
                                   "error": f"fork: {exc}"})
                    continue
                if pid == 0:
                    _job_child(controls, fds, message.get("limits") or {}, walls, uid, workdir, profiler)
                for fd in fds:
                    os.close(fd)
                try:
                    pidfd: int | None = os.pidfd_open(pid)
                except (OSError, AttributeError):
                    pidfd = None
                jobs[pid] = _Job(message.get("id"), pidfd, source, uid, pid_namespace, workdir)
            elif op == "kill":
                for pid, job in jobs.items():
                    if job.ident == message.get("id") and job.owner is source:
                        _end_job(pid, job)
            else:
                for fd in fds:
                    os.close(fd)
        for pid, job in list(jobs.items()):
            if job.pidfd is not None and job.pidfd not in ready:
                continue
            rss_kb = 0
            try:
                waited, status, usage = os.wait4(pid, 0 if job.pidfd is not None else os.WNOHANG)
                rss_kb = usage.ru_maxrss
            except ChildProcessError:
                waited, status = pid, 0
            if waited != pid:
                continue
            if job.pidfd is not None:
                os.close(job.pidfd)
            del jobs[pid]
            if not job.pid_namespace:
                _end_job(pid, job)  # orphans that left its session, found by its uid
            _clean_up(job)
            if job.owner in controls:
                _send(job.owner, {"event": "exit", "id": job.ident, "status": status, "maxrss_kb": rss_kb})
        _reap_orphans(jobs)


def _reap_orphans(jobs: dict[int, _Job]) -> None:
    """Orphans of jobs without a PID namespace come back to us (we are their subreaper) once
    killed: reap them, but never a job's own child, whose status its owner waits for."""
    while True:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if info is None or info.si_pid in jobs:
            return
        try:
            os.waitpid(info.si_pid, 0)
        except ChildProcessError:
            return


def prewarm() -> None:
    """Do once here what every child would otherwise repeat: torch's lazy imports for saving,
    loading, function modes and dispatch modes, the harness's own (`child.prewarm`), and
    sympy with torch's symbolic shapes, which the first op on meta imports (~0.6 s); and the
    choice of the kernels that children's calls on meta run (`metakernels`)."""
    import torch

    from grader.boundary import child, metakernels, wire

    metakernels.use_cpp_kernels()
    wire.unpack(wire.pack({"t": torch.zeros(2), "d": torch.float32, "s": (1, "x")}))
    child.encode((torch.zeros(1), 1, "x"))
    child.prewarm()
    traceback_mod = __import__("traceback")
    traceback_mod.extract_tb(None)
    try:
        __import__("torch.fx.experimental.symbolic_shapes")
    except ImportError:
        pass


def main(config: dict[str, Any]) -> NoReturn:
    """Entry point (see sandbox.BOOT): warm up, say ready, serve until the grader hangs up.

    Nothing here ever loads a reference solution or computes a reference: a child forked
    from this process holds nothing of the course but its job."""
    started = time.monotonic()
    ctl = socket.socket(fileno=int(config["fd"]))
    import torch

    from grader.boundary import confine, jail, observe

    prewarm()
    jail._python_paths()  # once here, not in every child
    torch.set_num_threads(1)
    profiler = observe.take_profiler()  # after the warm-up, which records ops; before any child
    walls = _Walls(str(config.get("isolation") or "bwrap"), bool(config.get("root")), int(config["uid_seed"]))
    if walls.process_mode:
        os.chdir("/")
        confine.set_subreaper()  # a job without a PID namespace: its orphans come back to us
        if walls.root:
            try:
                walls.netns = confine.empty_network_namespace()
            except OSError:
                pass  # no CAP_SYS_ADMIN: the job makes its own as an unprivileged user, if it can
    for deny_ipc in (False, True):
        flt = confine.SeccompFilter(deny_ipc)
        if flt.available:
            walls.seccomp[deny_ipc] = flt
        walls.filter_note = "on" if flt.available else flt.missing
    confine.set_dumpable(False)
    if config.get("many_jobs"):
        confine.collapse_into_huge_pages()  # a batch: cheaper forks from the first job on
    null = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(null, target)
    os.close(null)
    warm_s = round(time.monotonic() - started, 3)
    _send(ctl, {"event": "ready", "warm_s": warm_s, "isolation": walls.isolation,
                "system_call_filter": walls.filter_note})
    try:
        _serve(ctl, walls, warm_s, profiler)
    finally:
        os._exit(0)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
