"""Warm grading workers: processes that already have torch, the course and the
references loaded, and grade one submission at a time by forking an isolated
child through the runner's launcher (the same isolation and limits as
`grade exercise3`). No submission pays `import torch`.

Local workers are forked from the warm `grade batch` process (`LocalPool`) and
share its sandbox: one zygote, started while `grade batch` imported torch, forks
the children of every worker (each worker has a control socket of its own).
On a dask cluster, each dask worker starts warm grader processes of its own
(`dask_grade`): dask workers are multi-threaded, and forking student children
from a threaded process is not safe, so the children are forked from a
single-threaded `python -m grader.pool` process instead.

Workers and the process that feeds them speak length-prefixed JSON: plain data
both ways, never pickle. Every child a worker forks closes the worker's socket
before any student code runs, so a submission cannot forge another one's report.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.launch import python_command

FRAME = struct.Struct("<I")
MAX_MESSAGE = 256 << 20
WORKER_START_S = 300.0
"""How long a fresh `python -m grader.pool` may take to import torch and answer (dask)."""


class WorkerLost(Exception):
    """A worker died or stopped answering while it graded a submission."""


# ------------------------------------------------------------------ protocol

def send_message(sock: socket.socket, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode("utf-8")
    sock.sendall(FRAME.pack(len(data)) + data)


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < n:
        try:
            chunk = sock.recv(min(n - len(chunks), 1 << 20))
        except InterruptedError:
            continue
        except OSError:
            return None
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def recv_message(sock: socket.socket) -> dict[str, Any] | None:
    """The next message, or None when the other side is gone or sent garbage."""
    head = _recv_exact(sock, FRAME.size)
    if head is None:
        return None
    (length,) = FRAME.unpack(head)
    if length > MAX_MESSAGE:
        return None
    body = _recv_exact(sock, length)
    if body is None:
        return None
    try:
        message = json.loads(body)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def options_to_json(opts: Any) -> dict[str, Any]:
    return {"devices": list(opts.devices) if opts.devices else None, "timeout": opts.timeout,
            "student": opts.student}


def options_from_json(data: dict[str, Any]) -> Any:
    from grader.grading import GradeOptions

    devices = data.get("devices")
    return GradeOptions(devices=tuple(devices) if devices else None, timeout=data.get("timeout"),
                        student=data.get("student"))


# ------------------------------------------------------------------ inside a worker

def make_launcher(zygote: socket.socket | None = None) -> Any:
    """One launcher per worker, reused for every submission it grades.

    With `zygote` (a control socket from the feeder's sandbox, see `LocalPool`), the worker
    shares that sandbox. Otherwise the runner picks the strongest isolation available when
    it builds its default launcher; a worker keeps that one instead of building one per job.
    """
    from grader import boundary

    if zygote is not None:
        return boundary.SandboxLauncher.attached(zygote)
    return boundary.shared_launcher()


def become_subreaper() -> None:
    """Orphans of a worker's children are re-parented to the worker (which kills them);
    the setting is not inherited across fork, so each worker sets it again."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        except (OSError, AttributeError):
            pass


@dataclass
class _WorkerState:
    launcher: Any
    courses: dict[str, Any] = field(default_factory=dict)

    def course(self, root: str) -> Any:
        from grader.course import CourseDir

        if root not in self.courses:
            self.courses[root] = CourseDir(Path(root))
        return self.courses[root]


def _handle(job: dict[str, Any], state: _WorkerState) -> dict[str, Any]:
    from grader.errors import GraderError
    from grader.grading import grade_source

    reply: dict[str, Any] = {"id": job.get("id")}
    try:
        course = state.course(str(job["course"]))
        opts = options_from_json(job.get("options") or {})
        report = grade_source(course, str(job["exercise"]), str(job["source"]), str(job["filename"]), opts,
                              state.launcher)
        reply["report"] = report.to_json()
    except GraderError as exc:  # an instructor's problem (a broken solution or YAML)
        reply.update(error=str(exc), kind="config")
    except Exception as exc:  # noqa: BLE001 - one submission must not stop the worker
        reply.update(error=f"{type(exc).__name__}: {exc}", kind="internal")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    reply["maxrss_kb"] = usage.ru_maxrss
    reply["children_maxrss_kb"] = max(children.ru_maxrss, int(getattr(state.launcher, "peak_child_rss_kb", 0)))
    return reply


def serve(sock: socket.socket, zygote: socket.socket | None = None) -> None:
    """A worker's loop: read a job, grade it, answer; return when the feeder is gone."""
    import torch

    fd = sock.fileno()

    def close_in_child() -> None:  # runs in every forked child, before any student code
        try:
            os.close(fd)
        except OSError:
            pass

    os.register_at_fork(after_in_child=close_in_child)
    become_subreaper()
    torch.set_num_threads(1)  # parallelism comes from the workers; refs must not oversubscribe the cores
    state = _WorkerState(make_launcher(zygote))
    prestart = getattr(state.launcher, "prestart", None)
    if callable(prestart):
        prestart()  # a sandbox starts (and imports torch) while the worker waits for its first job
    while True:
        job = recv_message(sock)
        if job is None:
            return
        if job.get("ping"):
            ready = getattr(state.launcher, "ready", None)
            if callable(ready):
                ready()  # answer once the sandbox can take jobs: the feeder counts that as warm-up
            send_message(sock, {"pong": True})
            continue
        send_message(sock, _handle(job, state))


def _quiet_stdio() -> None:
    """A worker never prints: progress bars and reports belong to the feeding process."""
    null = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(null, target)
    os.close(null)


# ------------------------------------------------------------------ local pool (fork)

@dataclass
class _Worker:
    pid: int
    sock: socket.socket
    job: dict[str, Any] | None = None
    deadline: float = 0.0
    peak_rss_kb: int = 0
    children_peak_rss_kb: int = 0


@dataclass
class PoolStats:
    workers: int = 0
    replaced: int = 0
    """Workers that died or hung and were replaced."""
    retried: int = 0
    """Submissions graded again on a fresh worker after their first worker was lost."""
    worker_peak_rss_kb: int = 0
    """Largest peak resident set of one worker (pages shared with the parent included)."""
    child_peak_rss_kb: int = 0
    """Largest peak resident set of one child that ran a submission."""

    def note(self, reply: dict[str, Any]) -> None:
        self.worker_peak_rss_kb = max(self.worker_peak_rss_kb, int(reply.get("maxrss_kb") or 0))
        self.child_peak_rss_kb = max(self.child_peak_rss_kb, int(reply.get("children_maxrss_kb") or 0))


class LocalPool:
    """`size` workers forked from this (warm) process.

    Fork it while this process is single-threaded: no progress-bar thread, no
    dask client. A worker that dies or exceeds a job's deadline is killed,
    the job is reported as lost, and a fresh worker is forked in its place.
    """

    def __init__(self, size: int, stats: PoolStats | None = None,
                 attach: Callable[[], socket.socket | None] | None = None) -> None:
        self.size = max(1, size)
        self.stats = stats or PoolStats()
        self.workers: list[_Worker] = []
        self.attach = attach
        """Gives each new worker a control socket to this process's sandbox (one zygote, which
        imported torch while this process did, serves every worker); None: each worker
        starts its own."""

    def __enter__(self) -> LocalPool:
        for _ in range(self.size):
            self.workers.append(self._spawn())
        self.stats.workers = len(self.workers)
        self._await_ready()
        return self

    def _await_ready(self) -> None:
        """Wait until every worker can grade (its sandbox started); a worker that does not answer
        is left to `map`, which replaces it when it fails its first job."""
        waiting = []
        for worker in self.workers:
            try:
                send_message(worker.sock, {"ping": True})
                waiting.append(worker.sock)
            except OSError:
                pass
        end = time.monotonic() + WORKER_START_S
        while waiting and time.monotonic() < end:
            for sock in select.select(waiting, [], [], max(0.0, end - time.monotonic()))[0]:
                recv_message(sock)
                waiting.remove(sock)

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn(self) -> _Worker:
        ours, theirs = socket.socketpair()
        zygote = self.attach() if self.attach is not None else None
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                ours.close()
                for other in self.workers:  # never hold another worker's socket
                    other.sock.close()
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _quiet_stdio()
                serve(theirs, zygote)
            except BaseException:  # noqa: BLE001 - the feeder sees the socket close
                code = 1
            finally:
                os._exit(code)
        theirs.close()
        if zygote is not None:
            zygote.close()  # the worker's now
        return _Worker(pid, ours)

    def _retire(self, worker: _Worker) -> None:
        """Kill a worker and everything it started; reap them."""
        tree = _descendants(worker.pid)
        try:
            os.kill(worker.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        worker.sock.close()
        try:
            os.waitpid(worker.pid, 0)
        except ChildProcessError:
            pass
        _kill_all(tree)

    def map(self, jobs: Iterable[dict[str, Any]], deadline_s: Callable[[dict[str, Any]], float],
            on_idle: Callable[[], None] | None = None) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Grade `jobs`; yield (job, reply) in completion order.

        A reply has `report` (the report's JSON), or `error` with `kind`
        `config`, `internal`, `died` or `hung`. A job whose worker dies or hangs is graded
        once more on a fresh worker; only a second loss is replied.
        """
        pending = deque(jobs)
        retried: set[Any] = set()

        def feed(worker: _Worker) -> None:
            if worker.job is None and pending:
                next_job: dict[str, Any] = pending.popleft()
                worker.job = next_job
                worker.deadline = time.monotonic() + deadline_s(next_job)
                try:
                    send_message(worker.sock, next_job)
                except OSError:
                    pass  # noticed below as a dead worker

        while True:
            for worker in self.workers:
                feed(worker)
            busy = [w for w in self.workers if w.job is not None]
            if not busy:
                return
            now = time.monotonic()
            wait = max(0.0, min(0.5, min(w.deadline for w in busy) - now))
            ready = select.select([w.sock for w in busy], [], [], wait)[0]
            for worker in busy:
                job = worker.job
                if job is None:
                    continue
                if worker.sock in ready:
                    reply = recv_message(worker.sock)
                    if reply is None or reply.get("id") != job.get("id"):
                        lost = self._replace(worker, "died")  # gone, or not the answer to this job
                    else:
                        self.stats.note(reply)
                        worker.job = None
                        feed(worker)  # its next job first: the worker grades while the caller writes this report
                        yield job, reply
                        continue
                elif time.monotonic() > worker.deadline:
                    lost = self._replace(worker, "hung")
                else:
                    continue
                if job.get("id") not in retried:  # once more on a fresh worker: the loss may not be the job's
                    retried.add(job.get("id"))
                    self.stats.retried += 1
                    pending.appendleft(job)
                else:
                    yield job, {**lost, "retried": True}
            if on_idle is not None and not ready:
                on_idle()

    def _replace(self, worker: _Worker, kind: str) -> dict[str, Any]:
        job = worker.job or {}
        self._retire(worker)
        index = self.workers.index(worker)
        self.workers[index] = self._spawn()
        self.stats.replaced += 1
        message = ("the grader's worker process died while it ran this submission" if kind == "died"
                   else "the grader's worker process stopped answering while it ran this submission")
        return {"id": job.get("id"), "error": message, "kind": kind}

    def close(self) -> None:
        trees = [_descendants(worker.pid) for worker in self.workers]
        for worker in self.workers:
            worker.sock.close()  # the worker sees EOF and returns
        end = time.monotonic() + 5.0
        for worker in self.workers:
            while True:
                try:
                    pid, _ = os.waitpid(worker.pid, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == worker.pid:
                    break
                if time.monotonic() > end:
                    try:
                        os.kill(worker.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    end = float("inf")
                time.sleep(0.01)
        self.workers = []
        for tree in trees:
            _kill_all(tree)


def _descendants(pid: int) -> list[Any]:
    """The processes a worker started (its sandbox, a child still running), to be killed with it.
    Only these: the process that uses the pool may have children of its own."""
    try:
        import psutil

        return list(psutil.Process(pid).children(recursive=True))
    except Exception:  # noqa: BLE001 - psutil missing or the worker already gone
        return []


def _kill_all(procs: list[Any]) -> None:
    """Kill them, and reap those that were re-parented to this process (a subreaper)."""
    import psutil

    for proc in procs:
        try:
            proc.kill()
        except psutil.Error:
            pass
    for proc in procs:
        try:
            os.waitpid(proc.pid, 0)
        except (ChildProcessError, OSError):
            pass


# ------------------------------------------------------------------ dask workers

def course_bundle(course: Any) -> dict[str, Any]:
    """The course's files as plain data (course.yaml, exercises/, solutions/), to ship to
    machines that do not share this file system. `hash` names the bundle."""
    files: dict[str, str] = {"course.yaml": course.course_file.read_text(encoding="utf-8")}
    for folder in ("exercises", "solutions"):
        base = course.root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(course.root)
            if not path.is_file() or any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
                continue
            files[rel.as_posix()] = path.read_text(encoding="utf-8", errors="replace")
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    return {"hash": digest, "files": files}


def materialize_course(bundle: dict[str, Any]) -> Path:
    """Write a shipped course once per machine (content-addressed); return its folder."""
    digest = str(bundle["hash"])
    if not digest.isalnum():
        raise ValueError("invalid course bundle")
    target = Path(tempfile.gettempdir()) / f"course-grader-{digest[:24]}"
    if (target / "course.yaml").is_file():
        return target
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    for rel, text in bundle["files"].items():
        path = (staging / rel).resolve()
        if staging.resolve() not in path.parents:
            raise ValueError(f"invalid path in course bundle: {rel}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    try:
        os.rename(staging, target)
        _MATERIALIZED.add(target)  # ours to remove (a copy another process wrote is its own)
    except OSError:  # another task on this machine got there first
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
    return target


_MATERIALIZED: set[Path] = set()
"""Course copies this dask worker wrote: removed when the batch ends and at worker shutdown
(another process's copy of the same course is left to it)."""


def forget_course(digest: str | None = None) -> list[str]:
    """Remove this machine's copy of a shipped course (every copy this worker wrote when
    `digest` is None), and stop the idle grader processes that graded from it. Run on every
    worker by `grade batch` when its batch ends, and at the worker's shutdown."""
    import shutil

    removed = []
    for target in sorted(_MATERIALIZED):
        if digest is None or target.name == f"course-grader-{digest[:24]}":
            shutil.rmtree(target, ignore_errors=True)
            _MATERIALIZED.discard(target)
            removed.append(str(target))
    if removed:
        _stop_servers()
    return removed


atexit.register(forget_course)


class _Server:
    """A warm grader process (`python -m grader.pool FD`) owned by a dask worker."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        self.proc = subprocess.Popen(
            python_command("grader.pool", str(theirs.fileno())), pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        theirs.close()
        self.sock = ours
        self.fresh = True

    def ask(self, job: dict[str, Any], deadline_s: float) -> dict[str, Any]:
        send_message(self.sock, job)
        budget = deadline_s + (WORKER_START_S if self.fresh else 0.0)
        ready = select.select([self.sock], [], [], budget)[0]
        if not ready:
            raise WorkerLost("hung")
        reply = recv_message(self.sock)
        if reply is None:
            raise WorkerLost("died")
        self.fresh = False
        return reply

    def kill(self) -> None:
        self.sock.close()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.kill()
        except OSError:
            pass
        self.proc.wait()


_IDLE: list[_Server] = []
_LOCK = threading.Lock()


@atexit.register
def _stop_servers() -> None:
    with _LOCK:
        while _IDLE:
            _IDLE.pop().kill()


def remote_grade(job: dict[str, Any], deadline_s: float) -> dict[str, Any]:
    """Grade one job on a warm grader process of this machine (started on first use)."""
    with _LOCK:
        server = _IDLE.pop() if _IDLE else None
    if server is None or server.proc.poll() is not None:
        server = _Server()
    try:
        reply = server.ask(job, deadline_s)
    except WorkerLost as exc:
        server.kill()
        kind = str(exc)
        message = ("the grader's worker process died while it ran this submission" if kind == "died"
                   else "the grader's worker process stopped answering while it ran this submission")
        return {"id": job.get("id"), "error": message, "kind": kind}
    except BaseException:
        server.kill()
        raise
    with _LOCK:
        _IDLE.append(server)
    return reply


def dask_grade(job: dict[str, Any], bundle: dict[str, Any], deadline_s: float) -> dict[str, Any]:
    """The dask task: runs in a dask worker, grades with the same isolated runner."""
    root = materialize_course(bundle)
    return remote_grade({**job, "course": str(root)}, deadline_s)


def main(argv: list[str]) -> None:
    """`python -m grader.pool FD`: serve jobs on the socket FD (started by `_Server`)."""
    sock = socket.socket(fileno=int(argv[0]))
    serve(sock)


if __name__ == "__main__":
    main(sys.argv[1:])
