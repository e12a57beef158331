"""Inside the bubblewrap sandbox: the warm process that forks one child per job.

Started by `sandbox.SandboxLauncher` (see there for the sandbox itself). It
imports torch and pre-warms once, makes itself non-dumpable, then serves the
grader on a Unix socket: each `start` message brings the job in a memfd and
the child's two pipes as file descriptors; the zygote forks the child as
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


def _job_child(ctl: socket.socket, fds: list[int], limits_data: dict[str, Any], uid: int | None) -> NoReturn:
    from grader import confine, runner, wire

    try:
        gc.freeze()  # a collection must not touch (and copy) every page shared with the zygote
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


def _serve(ctl: socket.socket, config: dict[str, Any]) -> None:
    from grader import confine

    jobs: dict[int, tuple[int, int | None]] = {}  # pid -> (job id, pidfd)
    serial = 0
    while True:
        waitable = [fd for _, fd in jobs.values() if fd is not None]
        watched: list[Any] = [ctl, *waitable]
        ready = select.select(watched, [], [], None if len(waitable) == len(jobs) else 0.02)[0]
        if ctl in ready:
            try:
                data, fds, _, _ = socket.recv_fds(ctl, 1 << 16, 3)
            except OSError:
                data, fds = b"", []
            if not data:
                break
            try:
                message = json.loads(data)
            except ValueError:
                message = {}
            op = message.get("op")
            if op == "start" and len(fds) == 3:
                serial += 1
                uid = confine.job_uid(int(config["uid_seed"]), serial) if config.get("root") else None
                try:
                    pid = confine.fork_into_new_pid_namespace()
                except OSError as exc:
                    for fd in fds:
                        os.close(fd)
                    _send(ctl, {"event": "exit", "id": message.get("id"), "status": 70 << 8,
                                "error": f"fork: {exc}"})
                    continue
                if pid == 0:
                    _job_child(ctl, fds, message.get("limits") or {}, uid)
                for fd in fds:
                    os.close(fd)
                try:
                    pidfd: int | None = os.pidfd_open(pid)
                except (OSError, AttributeError):
                    pidfd = None
                jobs[pid] = (message.get("id"), pidfd)
            elif op == "kill":
                for pid, (job_id, _) in jobs.items():
                    if job_id == message.get("id"):
                        try:
                            os.kill(pid, signal.SIGKILL)  # process 1 of its namespace: all of it dies
                        except ProcessLookupError:
                            pass
            else:
                for fd in fds:
                    os.close(fd)
        for pid, (job_id, pidfd) in list(jobs.items()):
            if pidfd is not None and pidfd not in ready:
                continue
            try:
                waited, status = os.waitpid(pid, 0 if pidfd is not None else os.WNOHANG)
            except ChildProcessError:
                waited, status = pid, 0
            if waited != pid:
                continue
            if pidfd is not None:
                os.close(pidfd)
            del jobs[pid]
            _send(ctl, {"event": "exit", "id": job_id, "status": status})
    for pid in jobs:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


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
    _send(ctl, {"event": "ready", "warm_s": round(time.monotonic() - started, 3)})
    try:
        _serve(ctl, config)
    finally:
        os._exit(0)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
