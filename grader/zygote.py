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
import signal
import socket
import sys
import time
from typing import Any, NoReturn


def _send(ctl: socket.socket, message: dict[str, Any]) -> None:
    try:
        ctl.send(json.dumps(message).encode())
    except OSError:
        pass


def _job_child(controls: list[socket.socket], fds: list[int], limits_data: dict[str, Any],
               uid: int | None) -> NoReturn:
    from grader import confine, runner, wire

    try:
        gc.freeze()  # a collection must not touch (and copy) every page shared with the zygote
        for ctl in controls:  # the job must not speak for the grader
            ctl.close()
        os.setsid()
        memfd, res_w, out_w = fds
        confine.set_parent_death_signal(signal.SIGKILL)
        with os.fdopen(memfd, "rb") as f:
            job = wire.unpack(f.read(), grads=True)
        limits = runner.Limits(**limits_data)
        runner.redirect_stdio(out_w)
        runner.close_fds_except(res_w)
        home = runner.confine_sandbox_child(limits, uid)
        runner.run_child(job, res_w, home)
    finally:
        os._exit(70)


def _serve(ctl: socket.socket, config: dict[str, Any], warm_s: float) -> None:
    """Serve jobs until the grader that started the sandbox hangs up.

    `ctl` belongs to that grader; an `attach` message brings another control socket (a batch
    worker forked from the grader shares this zygote instead of starting its own). Each job's
    exit is reported on the socket that started it, and a socket that closes takes its jobs
    with it.
    """
    from grader import confine

    controls = [ctl]
    jobs: dict[int, tuple[Any, int | None, socket.socket]] = {}  # pid -> (job id, pidfd, its control socket)
    serial = 0

    def kill(pid: int) -> None:
        try:
            os.kill(pid, signal.SIGKILL)  # process 1 of its namespace: all of it dies
        except ProcessLookupError:
            pass

    while True:
        waitable = [fd for _, fd, _ in jobs.values() if fd is not None]
        ready = select.select([*controls, *waitable], [], [], None if len(waitable) == len(jobs) else 0.02)[0]
        for source in [c for c in controls if c in ready]:
            try:
                data, fds, _, _ = socket.recv_fds(source, 1 << 16, 3)
            except OSError:
                data, fds = b"", []
            if not data:
                if source is ctl:
                    for pid in jobs:
                        kill(pid)
                    return
                controls.remove(source)
                for pid, (_, _, owner) in jobs.items():
                    if owner is source:
                        kill(pid)
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
                _send(attached, {"event": "ready", "warm_s": warm_s})
            elif op == "start" and len(fds) == 3:
                serial += 1
                uid = confine.job_uid(int(config["uid_seed"]), serial) if config.get("root") else None
                try:
                    pid = confine.fork_into_new_pid_namespace()
                except OSError as exc:
                    for fd in fds:
                        os.close(fd)
                    _send(source, {"event": "exit", "id": message.get("id"), "status": 70 << 8,
                                   "error": f"fork: {exc}"})
                    continue
                if pid == 0:
                    _job_child(controls, fds, message.get("limits") or {}, uid)
                for fd in fds:
                    os.close(fd)
                try:
                    pidfd: int | None = os.pidfd_open(pid)
                except (OSError, AttributeError):
                    pidfd = None
                jobs[pid] = (message.get("id"), pidfd, source)
            elif op == "kill":
                for pid, (job_id, _, owner) in jobs.items():
                    if job_id == message.get("id") and owner is source:
                        kill(pid)
            else:
                for fd in fds:
                    os.close(fd)
        for pid, (job_id, pidfd, owner) in list(jobs.items()):
            if pidfd is not None and pidfd not in ready:
                continue
            try:  # wait4: the job's peak memory too, which no worker outside the sandbox can see
                waited, status, usage = os.wait4(pid, 0 if pidfd is not None else os.WNOHANG)
                maxrss_kb = usage.ru_maxrss
            except ChildProcessError:
                waited, status, maxrss_kb = pid, 0, 0
            if waited != pid:
                continue
            if pidfd is not None:
                os.close(pidfd)
            del jobs[pid]
            if owner in controls:
                _send(owner, {"event": "exit", "id": job_id, "status": status, "maxrss_kb": maxrss_kb})


def main(config: dict[str, Any]) -> NoReturn:
    """Entry point (see sandbox.BOOT): warm up, say ready, serve until the grader hangs up."""
    started = time.monotonic()
    ctl = socket.socket(fileno=int(config["fd"]))
    import torch

    from grader import confine, runner

    runner.prewarm()
    runner._python_paths()  # once here, not in every child
    torch.set_num_threads(1)
    confine.set_dumpable(False)
    null = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(null, target)
    os.close(null)
    warm_s = round(time.monotonic() - started, 3)
    _send(ctl, {"event": "ready", "warm_s": warm_s})
    try:
        _serve(ctl, config, warm_s)
    finally:
        os._exit(0)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
