"""Grading a whole class: find the submissions, grade them on warm workers, write the reports.

`grade_many` is the engine (local warm workers, or a dask cluster); `run_batch`
is what `grade batch` does with it: one report per student, `summary.csv`,
`junit.xml` and `scores.png`, all written atomically, with `--resume`.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from grader.course import CourseDir
from grader.errors import UsageError
from grader.inert import visible
from grader.plots import Painter
from grader.results import (
    GRADER_ERROR,
    CourseReport,
    ExerciseReport,
    Report,
    TaskResult,
    exercises_of,
    has_grader_error,
)
from grader.scan import Flag

T = TypeVar("T")
EXECUTORS = ("local", "dask")
MAX_SOURCE_BYTES = 1 << 20
SKIP_NAMES = {"__pycache__", ".ipynb_checkpoints", "node_modules"}
STATE_FILE = ".grade-batch.json"
STATE_EVERY_S = 1.0
"""How often a running batch rewrites STATE_FILE (every student so far, for --resume): after every
student, a class of n made it write n(n+1)/2 entries. It is written once more when the batch ends
or is interrupted; a batch killed outright grades the last second's students again on --resume."""
CLASS_FILES = ("summary.csv", "junit.xml", "scores.png", "report.html")
"""What `grade batch` writes about the whole class, and `grade report` rebuilds."""
RESERVED = {*CLASS_FILES, STATE_FILE}


@dataclass(frozen=True)
class Submission:
    """One student's file for one exercise, as source text."""

    student: str
    exercise: str
    source: str
    filename: str
    submitted_at: datetime | None = None
    """When it was handed in: the file's modification time (nbgrader: its timestamp.txt)."""


@dataclass
class BatchStats:
    """What a batch cost; filled in by `grade_many`."""

    submissions: int = 0
    workers: int = 0
    seconds: float = 0.0
    """Wall time of grading, warm-up included."""
    warmup_seconds: float = 0.0
    """Warm-up in the parent: one grading of each exercise's reference solution."""
    replaced_workers: int = 0
    worker_peak_rss_kb: int = 0
    child_peak_rss_kb: int = 0
    problems: list[str] = field(default_factory=list)
    """Submissions that could not be graded for a reason that is not the student's."""
    config_errors: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ discovery

def notebook_source(text: str) -> str:
    """The code of a notebook as one Python file: code cells in order, each as Jupyter runs it
    (`notebook_code.cell_python`: magics and shell escapes neutralised), nbgrader's autograder
    test cells left out."""
    from grader.notebook_code import cell_python

    nb = json.loads(text)
    if not isinstance(nb, dict):
        raise ValueError("not a notebook (expected a JSON object)")
    cells = nb.get("cells")
    if cells is None and isinstance(nb.get("worksheets"), list) and nb["worksheets"]:
        cells = nb["worksheets"][0].get("cells")  # nbformat 3
    if not isinstance(cells, list):
        raise ValueError("not a notebook (no list of cells)")
    parts = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {})
        nbg = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
        if isinstance(nbg, dict) and nbg.get("grade") and not nbg.get("solution"):
            continue  # an autograder test cell: tests are ours to run, not the notebook's
        source = cell.get("source", cell.get("input", ""))
        if isinstance(source, list):
            source = "".join(str(s) for s in source)
        if not isinstance(source, str):
            continue
        parts.append(cell_python(source).rstrip("\n"))
    return "\n\n".join(parts) + "\n"


def _read_source(path: Path) -> str:
    """The submission's code; an unreadable file becomes code that explains itself when graded."""
    try:
        size = path.stat().st_size
        if size > MAX_SOURCE_BYTES:
            return _explain(f"{path.name} is {size} bytes, more than the {MAX_SOURCE_BYTES} allowed")
        text = path.read_text(encoding="utf-8", errors="replace")
        return notebook_source(text) if path.suffix == ".ipynb" else text
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return _explain(f"{path.name} could not be read as a {'notebook' if path.suffix == '.ipynb' else 'file'}: "
                        f"{exc}")


def file_time(path: Path) -> datetime | None:
    """A file's modification time, which `grade batch` takes for the time it was handed in
    (a copy that keeps it, `cp -p` or `rsync -t`, keeps the student's time); None if unreadable."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    except (OSError, OverflowError, ValueError):
        return None


def _explain(message: str) -> str:
    """Source whose only effect is an import error with `message` (so the report says it)."""
    return f"raise RuntimeError({message!r})\n"


def _defined_names(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def detect_exercise(course: CourseDir, name: str, source: str) -> str | None:
    """Which exercise a file is: its name (`exercise3.py`, `ex3.ipynb`, `3.py`), else the
    exercise whose task names it defines (one clear winner), else None."""
    try:
        return course.resolve_id(name)
    except UsageError:
        pass
    defined = _defined_names(source)
    if not defined:
        return None
    scores = []
    for ex_id in course.exercise_ids:
        tasks = {t.name for t in course.exercise(ex_id).tasks}
        scores.append((len(tasks & defined) / len(tasks) if tasks else 0.0, ex_id))
    scores.sort(reverse=True)
    if not scores or scores[0][0] == 0 or (len(scores) > 1 and scores[1][0] == scores[0][0]):
        return None
    return scores[0][1]


def _candidates(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") or part in SKIP_NAMES for part in rel.parts):
            continue
        if path.suffix in (".py", ".ipynb") and path.is_file():
            found.append(path)
    return sorted(found, key=lambda p: (len(p.relative_to(folder).parts), str(p)))


def discover(course: CourseDir, root: Path, *, exercise: str | None = None,
             student: str | None = None) -> tuple[list[Submission], list[str], dict[str, str]]:
    """Submissions under `root`: `<student>/<exercise>.py`, `<student>/<any>.ipynb`, or one
    `<student>.py`/`.ipynb` per student. Returns them, a note for every file or folder left
    out (why, and what to rename it to), and the students with nothing gradable (why)."""
    if not root.is_dir():
        raise UsageError(f"{root}: no such folder; pass the folder that holds one folder (or file) per student")
    only = course.resolve_id(exercise) if exercise else None
    rename = f"name it after its exercise, e.g. {course.exercise_ids[0]}.py or {course.exercise_ids[0]}.ipynb" \
        if course.exercise_ids else "name it after its exercise"
    subs: list[Submission] = []
    notes: list[str] = []
    empty: dict[str, str] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.name in SKIP_NAMES:
            continue
        if entry.is_dir():
            name, files = entry.name, _candidates(entry)
        elif entry.is_file() and entry.suffix in (".py", ".ipynb"):
            name, files = entry.stem, [entry]
        else:
            if student is None:
                notes.append(f"{entry.name}: left out: not a student's folder, .py or .ipynb file; put each "
                             "student's work in SUBMISSIONS/<student>/")
            continue
        if student is not None and name != student:
            continue
        chosen: dict[str, Path] = {}
        sources: dict[Path, str] = {}
        unnamed: list[Path] = []
        left: list[str] = []  # this student's notes
        for path in files:  # files named after an exercise first, then the others by content
            sources[path] = _read_source(path)
            try:
                ex_id = course.resolve_id(path.stem)
            except UsageError:
                unnamed.append(path)
                continue
            if ex_id in chosen:
                left.append(f"{path.relative_to(root)}: left out: {name} already has "
                            f"{chosen[ex_id].relative_to(root)} for {ex_id}; remove one or rename it")
            else:
                chosen[ex_id] = path
        for path in unnamed:
            detected = detect_exercise(course, path.stem, sources[path])
            if detected is None and only is not None and len(files) == 1:
                detected = only
            if detected is None:
                left.append(f"{path.relative_to(root)}: left out: cannot tell which exercise it is; {rename}, "
                            "or pass --exercise")
                continue
            if detected in chosen:
                left.append(f"{path.relative_to(root)}: left out: {name} already has "
                            f"{chosen[detected].relative_to(root)} for {detected}; remove one or rename it")
                continue
            chosen[detected] = path
        if entry.is_dir():
            left += [f"{path.relative_to(root)}: left out: not a .py or .ipynb file" for path in _others(entry)]
        order = {ex_id: i for i, ex_id in enumerate(course.exercise_ids)}
        picked = [(ex_id, path) for ex_id, path in sorted(chosen.items(), key=lambda kv: order.get(kv[0], 0))
                  if only is None or ex_id == only]
        subs += [Submission(name, ex_id, sources[path], path.name, file_time(path)) for ex_id, path in picked]
        notes += left
        if not picked and entry.is_dir():  # a student's folder: the student gets a row all the same
            why = "; ".join(n.split(": left out: ", 1)[-1] for n in left[:3])
            empty[name] = (f"nothing gradable in {entry.name}" + (f" ({why})" if why else " (no .py or .ipynb file)")
                           + (f" for {only}" if only else ""))
    return subs, notes, empty


def _others(folder: Path) -> list[Path]:
    """Files in a student's folder that are neither code nor skipped (README, data, a .zip)."""
    found = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") or part in SKIP_NAMES for part in rel.parts):
            continue
        if path.is_file() and path.suffix not in (".py", ".ipynb"):
            found.append(path)
    return found


# ------------------------------------------------------------------ the engine

def exercise_report_from_json(data: dict[str, Any]) -> ExerciseReport:
    tasks = tuple(TaskResult(str(t["name"]), float(t["score"]), float(t["max_score"]), str(t["status"]),
                             str(t.get("feedback", "")), {str(k): str(v) for k, v in t.get("devices", {}).items()},
                             float(t.get("time_s", 0.0)),
                             dict(t["hidden"]) if isinstance(t.get("hidden"), dict) else None)
                  for t in data["tasks"])
    return ExerciseReport(exercise=str(data["exercise"]), title=str(data.get("title", "")), tasks=tasks,
                          output=str(data.get("output", "")), isolation=str(data.get("isolation", "process")),
                          seconds=float(data.get("time_s", 0.0)), student=data.get("student"),
                          limits=dict(data["limits"]) if isinstance(data.get("limits"), dict) else {},
                          flags=tuple(Flag(str(f.get("rule", "")), int(f.get("line", 0)), str(f.get("snippet", "")))
                                      for f in data.get("flags", []) if isinstance(f, dict)),
                          submitted_at=_time_from_json(data, "submitted_at"),
                          deadline=_time_from_json(data, "deadline"))


def _time_from_json(data: dict[str, Any], key: str) -> datetime | None:
    """`submitted_at` or `deadline` of a JSON report: ISO 8601 with a timezone, or absent."""
    if data.get(key) is None:
        return None
    value = datetime.fromisoformat(str(data[key]))
    if value.tzinfo is None:
        raise ValueError(f"{key} {data[key]!r} has no timezone")
    return value


def report_from_json(data: dict[str, Any]) -> Report:
    """A report as written by `to_json` (one exercise, or several wrapped)."""
    if "exercises" in data:
        return CourseReport(tuple(exercise_report_from_json(e) for e in data["exercises"]),
                            student=data.get("student"))
    return exercise_report_from_json(data)


def with_deadline(course: CourseDir, report: ExerciseReport, submitted_at: datetime | None) -> ExerciseReport:
    """`report` with when it was handed in (to the second, in the deadline's timezone) and its
    exercise's deadline in course.yaml; with neither where the exercise has no deadline or the
    time is unknown. Lateness is noted, never scored: the points stay as graded."""
    deadline = course.course.deadline_of(report.exercise)
    if deadline is None or submitted_at is None:
        return replace(report, submitted_at=None, deadline=None)
    return replace(report, submitted_at=submitted_at.astimezone(deadline.tzinfo).replace(microsecond=0),
                   deadline=deadline)


def _redated(course: CourseDir, report: Report, times: dict[str, datetime | None]) -> Report:
    """A kept report (`--resume`) dated again against today's files and deadlines: a deadline
    moved or a file handed in again unchanged grades nothing again, but shows."""
    if isinstance(report, CourseReport):
        return replace(report, exercises=tuple(with_deadline(course, ex, times.get(ex.exercise))
                                               for ex in report.exercises))
    return with_deadline(course, report, times.get(report.exercise))


def failed_report(course: CourseDir, ex_id: str, student: str | None, status: str,
                  feedback: str, isolation: str = "none") -> ExerciseReport:
    """Zero points on every task, with the reason: for a submission that could not be graded.
    `isolation`: where it was run (`none`: it was not)."""
    exercise = course.exercise(ex_id)
    tasks = tuple(TaskResult(t.name, 0.0, t.points, status, feedback, {}) for t in exercise.tasks)
    return ExerciseReport(exercise=ex_id, title=exercise.title, tasks=tasks, student=student, isolation=isolation)


LOST_FEEDBACK = {
    "died": "your code stopped the grader's worker process, twice (for example by killing its parent process "
            "or using up the machine's memory); nothing of this exercise could be graded",
    "hung": "your code kept the grader's worker process from answering, twice (for example by stopping its parent "
            "process); nothing of this exercise could be graded",
}


def _deadline_s(course: CourseDir, ex_id: str, opts: Any) -> float:
    """Longest a worker may take for one submission before it is presumed stuck: every task
    may restart a child (import timeout) and use its whole timeout."""
    from grader.grading import limits_for, plan

    limits = limits_for(course, plan(course, ex_id, course.exercise(ex_id), opts))
    n = len(limits.task_timeout)
    return n * limits.import_timeout + sum(limits.task_timeout) + 30.0


def _warm_up(course: CourseDir, exercises: list[str], opts: Any) -> None:
    """Grade each exercise's reference solution once in this process before the workers are
    forked: torch's lazy imports, the runner's pre-warming and the references are then loaded
    once and shared by every worker (and a broken solution stops the batch before it starts)."""
    from grader import boundary
    from grader.grading import grade_source, reference_submission

    launcher = boundary.shared_launcher()  # started before any reference: the workers share it
    for ex_id in exercises:
        grade_source(course, ex_id, reference_submission(course, ex_id, opts), f"{ex_id}.py", opts, launcher)


class _Bar:
    """A progress bar with ETA on stderr, refreshed by hand (no thread: workers are forked)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.progress: Any = None
        if not enabled or total == 0:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                 TextColumn("ETA"), TimeRemainingColumn(), console=Console(stderr=True),
                                 auto_refresh=False)
        self.task = self.progress.add_task("grading", total=total)
        self.progress.start()

    def advance(self) -> None:
        if self.progress is not None:
            self.progress.advance(self.task)
            self.progress.refresh()

    def tick(self) -> None:
        if self.progress is not None:
            self.progress.refresh()

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def default_jobs() -> int:
    """One worker more than the cores this process may use: a worker spends part of each
    submission waiting (for the zygote's fork, for its child's messages), and the extra
    worker's child runs meanwhile (2 cores, 200 submissions: -j 3 took 6 % less time than
    -j 2, and the idle CPU time went from 1.6-2.0 s to 0.7 s)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, cores) + 1


def grade_many(course: CourseDir, submissions: Iterable[Submission], opts: Any, jobs: int, *,
               executor: str = "local", scheduler: str | None = None, progress: bool = True,
               variants: bool = False, stats: BatchStats | None = None,
               ) -> Iterator[tuple[Submission, ExerciseReport]]:
    """Grade every submission, each in its own isolated child, on `jobs` warm workers
    (or on a dask cluster); yield (submission, report) as they finish.

    `variants`: grade each student's own variant (`--student <student>`); otherwise
    everyone is graded with `opts` as given. Reports always name the student.
    """
    from grader import pool

    subs = list(submissions)
    stats = stats if stats is not None else BatchStats()
    stats.submissions = len(subs)
    if executor not in EXECUTORS:
        raise UsageError(f"unknown executor '{executor}'; choose from {', '.join(EXECUTORS)}")
    if executor == "dask" and not scheduler:
        raise UsageError("--executor dask needs --scheduler ADDRESS (e.g. tcp://scheduler-host:8786)")
    if not subs:
        return
    started = time.monotonic()
    order = {ex_id: i for i, ex_id in enumerate(course.exercise_ids)}
    exercises = sorted({s.exercise for s in subs}, key=lambda e: order.get(e, len(order)))
    deadlines = {ex_id: _deadline_s(course, ex_id, opts) for ex_id in exercises}
    client = _dask_client(str(scheduler)) if executor == "dask" else None  # unreachable: fail before warming up
    _warm_up(course, exercises, opts)
    stats.warmup_seconds = time.monotonic() - started

    def options(sub: Submission) -> Any:
        return replace(opts, student=sub.student) if variants else opts

    job_list = [{"id": i, "course": str(course.root), "exercise": s.exercise, "source": s.source,
                 "filename": s.filename, "options": pool.options_to_json(options(s))} for i, s in enumerate(subs)]
    pool_stats = pool.PoolStats()
    bar = _Bar(len(subs), progress)
    try:
        if executor == "local":
            size = min(max(1, jobs), len(subs))
            attach = _sandbox_attach()
            with pool.LocalPool(size, pool_stats, attach) as workers:
                stats.workers = size
                stats.warmup_seconds = time.monotonic() - started  # the workers' sandboxes included
                for job, reply in workers.map(job_list, lambda job: deadlines[job["exercise"]], bar.tick):
                    sub = subs[job["id"]]
                    bar.advance()
                    yield sub, _report_of(course, sub, reply, stats, contained=attach is not None,
                                          isolation="bwrap" if attach is not None else "process")
        else:
            for job, reply in _dask_replies(course, job_list, deadlines, client, pool_stats, stats):
                sub = subs[job["id"]]
                bar.advance()
                yield sub, _report_of(course, sub, reply, stats, contained=False, isolation="unknown (dask)")
    finally:
        bar.close()
        stats.seconds = time.monotonic() - started
        stats.replaced_workers = pool_stats.replaced
        stats.worker_peak_rss_kb = pool_stats.worker_peak_rss_kb
        stats.child_peak_rss_kb = pool_stats.child_peak_rss_kb


def _sandbox_attach() -> Any:
    """The workers share this process's zygote (the sandbox's, or process mode's)."""
    from grader import boundary

    return boundary.shared_launcher().attach


DASK_CONNECT_S = 5
"""How long an unreachable dask scheduler is tried before the batch stops (exit code 2)."""


def _dask_client(scheduler: str) -> Any:
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--executor dask needs dask.distributed: pip install 'course-grader[dask]'") from None
    try:
        return Client(scheduler, timeout=f"{DASK_CONNECT_S}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"cannot reach the dask scheduler at {scheduler} within {DASK_CONNECT_S} s: {exc}") from None


def _dask_replies(course: CourseDir, job_list: list[dict[str, Any]], deadlines: dict[str, float], client: Any,
                  pool_stats: Any, stats: BatchStats) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    from distributed import as_completed

    from grader import pool

    with client:
        stats.workers = sum(int(w.get("nthreads", 1)) for w in client.scheduler_info()["workers"].values())
        shipped = pool.course_bundle(course)
        [bundle] = client.scatter([shipped], broadcast=True)
        futures = {client.submit(pool.dask_grade, job, bundle, deadlines[job["exercise"]], pure=False): job
                   for job in job_list}
        for future in as_completed(futures):
            job = futures.pop(future)
            try:
                reply = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost dask worker loses one submission, not the batch
                reply = {"id": job["id"], "error": f"the dask task failed: {type(exc).__name__}: {exc}",
                         "kind": "internal"}
            pool_stats.note(reply)
            yield job, reply
        try:  # the batch is over: no worker keeps the course (solutions included) on its disk
            client.run(pool.forget_course, str(shipped["hash"]))
        except Exception:  # noqa: BLE001, S110 - a worker gone meanwhile removes it on shutdown
            pass


def _report_of(course: CourseDir, sub: Submission, reply: dict[str, Any], stats: BatchStats,
               contained: bool = False, isolation: str = "process") -> ExerciseReport:
    """The report a worker sent, or why there is none. A worker lost twice (the pool grades a
    submission again on a fresh worker after the first loss) is the submission's doing only
    where it could reach the worker: in process mode without the sandbox. Elsewhere, and for
    the grader's own exceptions, the result is `grader_error`, never the student's 0."""
    where = f"{sub.student}/{sub.filename} ({sub.exercise})"
    if isinstance(reply.get("report"), dict):
        try:
            return replace(exercise_report_from_json(reply["report"]), student=sub.student)
        except (KeyError, TypeError, ValueError) as exc:
            reply = {"error": f"unreadable report from a worker: {exc}", "kind": "internal"}
    kind = str(reply.get("kind", "internal"))
    message = str(reply.get("error", "no answer from the worker"))
    if kind in LOST_FEEDBACK and not contained:
        stats.problems.append(f"{where}: {message} (twice, on a fresh worker too)")
        return failed_report(course, sub.exercise, sub.student, "timeout" if kind == "hung" else "error",
                             LOST_FEEDBACK[kind], isolation)
    if kind == "config":
        stats.config_errors.append(f"{where}: {message}")
        return failed_report(course, sub.exercise, sub.student, "error",
                             "the grader could not grade this exercise (a problem with the course, "
                             "reported to the instructor)", isolation)
    stats.problems.append(f"{where}: {message}")
    return failed_report(course, sub.exercise, sub.student, GRADER_ERROR,
                         "the grader could not complete this grading for a reason that is not your code's "
                         "(reported to the instructor, who will grade it again)", isolation)


# ------------------------------------------------------------------ grade batch

def for_each_student(items: Iterable[T], student_of: Callable[[T], str], action: Callable[[T], None],
                     problems: list[str], what: str) -> None:
    """`action` on each item; whatever it raises is recorded against that item's student only
    (one student's data never stops another's grading or reports)."""
    for item in items:
        try:
            action(item)
        except Exception as exc:  # noqa: BLE001 - any failure stays with its student
            problems.append(f"{visible(student_of(item))}: {what} failed: {type(exc).__name__}: {exc}")


@dataclass
class BatchResult:
    out: Path
    reports: dict[str, Report]
    """Every student's report, in student order (graded now or kept by --resume)."""
    graded: list[str]
    resumed: list[str]
    notes: list[str]
    stats: BatchStats
    files: list[Path] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    """What the user should know about the reports (a file that could not be made)."""
    course: CourseDir | None = None


def student_report(course: CourseDir, student: str, reports: list[ExerciseReport]) -> Report:
    order = {ex_id: i for i, ex_id in enumerate(course.exercise_ids)}
    reports = sorted(reports, key=lambda r: order.get(r.exercise, len(order)))
    if len(reports) == 1:
        return replace(reports[0], student=student)
    return CourseReport(tuple(replace(r, student=None) for r in reports), student=student)


def _fingerprint(course: CourseDir, opts: Any, variants: bool) -> str:
    from grader import pool

    files = dict(pool.course_bundle(course)["files"])
    # course.yaml as what it means, without its deadlines: they change no grade, and a moved deadline
    # re-dates the kept reports (run_batch) instead of grading the whole class again
    files["course.yaml"] = course.course.model_dump_json(exclude={"deadline", "deadlines"})
    settings = {"course": hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest(),
                "options": pool.options_to_json(opts), "variants": variants}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def _content_hash(fingerprint: str, subs: list[Submission]) -> str:
    data = [fingerprint] + [[s.exercise, s.filename, s.source] for s in sorted(subs, key=lambda s: s.exercise)]
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()


def _load_state(out: Path) -> dict[str, str]:
    try:
        data = json.loads((out / STATE_FILE).read_text(encoding="utf-8"))
        students = data.get("students", {}) if isinstance(data, dict) else {}
        return {str(k): str(v) for k, v in students.items()} if isinstance(students, dict) else {}
    except (OSError, ValueError):
        return {}


def _load_report(path: Path) -> Report | None:
    try:
        return _read_report(path)
    except REPORT_ERRORS:
        return None


def run_batch(course: CourseDir, root: Path, out: Path, opts: Any, jobs: int, *, executor: str = "local",
              scheduler: str | None = None, resume: bool = False, progress: bool = False,
              exercise: str | None = None, student: str | None = None, variants: bool = False,
              gradescope: bool = False) -> BatchResult:
    """`grade batch`: grade every student under `root` and write the reports into `out`."""
    from grader.reports import render, to_json, write_atomic

    subs, notes, empty = discover(course, root, exercise=exercise, student=student)
    if not subs:
        raise UsageError(f"no submissions found in {root}: expected <student>/<exercise>.py, "
                         "<student>/<name>.ipynb or <student>.py" + (f" ({notes[0]})" if notes else ""))
    by_student: dict[str, list[Submission]] = {}
    for sub in subs:
        by_student.setdefault(sub.student, []).append(sub)
    clash = sorted(s for s in [*by_student, *empty] if f"{s}.json" in RESERVED or s.startswith("."))
    if clash:
        raise UsageError(f"student name {clash[0]!r} clashes with a file grade batch writes; rename that folder")
    out.mkdir(parents=True, exist_ok=True)
    order = {ex_id: i for i, ex_id in enumerate(course.exercise_ids)}
    batch_exercises = sorted({sub.exercise for sub in subs}, key=lambda e: order.get(e, len(order)))
    fingerprint = _fingerprint(course, opts, variants)
    hashes = {s: _content_hash(fingerprint, items) for s, items in by_student.items()}
    state = _load_state(out) if resume else {}
    reports: dict[str, Report] = {}
    resumed = []
    redated = []
    for name in by_student:
        if state.get(name) == hashes[name]:
            kept = _load_report(out / f"{name}.json")
            if kept is not None:
                reports[name] = _redated(course, kept, {s.exercise: s.submitted_at for s in by_student[name]})
                resumed.append(name)
                if reports[name] != kept:
                    redated.append(name)
    todo = [sub for sub in subs if sub.student not in reports]
    remaining = {s: len(items) for s, items in by_student.items() if s not in reports}
    done: dict[str, list[ExerciseReport]] = {}
    stats = BatchStats()
    new_state = {s: hashes[s] for s in resumed}
    files: list[Path] = []
    notices: list[str] = []
    for_each_student(redated, str, lambda name: write_atomic(out / f"{name}.json", to_json(reports[name])),
                     stats.problems, "writing the report")
    for name, why in empty.items():  # a row (0 points, the reason) for a student with nothing gradable
        reports[name] = student_report(course, name, [failed_report(course, ex_id, name, "error", why)
                                                      for ex_id in batch_exercises])
        for_each_student([name], str, lambda name: write_atomic(out / f"{name}.json", to_json(reports[name])),
                         stats.problems, "writing the report")
    unsaved, state_due = False, time.monotonic() + STATE_EVERY_S

    def save_state() -> None:
        write_atomic(out / STATE_FILE, json.dumps({"version": 1, "students": new_state}, indent=1))

    painter = Painter() if todo else None  # loads matplotlib on the CPU time grading leaves idle
    try:
        for sub, report in grade_many(course, todo, opts, jobs, executor=executor, scheduler=scheduler,
                                      progress=progress, variants=variants, stats=stats):
            done.setdefault(sub.student, []).append(with_deadline(course, report, sub.submitted_at))
            remaining[sub.student] -= 1
            if remaining[sub.student]:
                continue
            final = student_report(course, sub.student, done.pop(sub.student))
            reports[sub.student] = final

            def write(student: str, final: Report = final) -> None:
                write_atomic(out / f"{student}.json", to_json(final))
                if gradescope:
                    write_atomic(out / "gradescope" / f"{student}.json", render(final, "gradescope", course))
                if not has_grader_error(final):  # graded again next time, --resume or not
                    new_state[student] = hashes[student]

            for_each_student([sub.student], str, write, stats.problems, "writing the report")
            unsaved = True
            if time.monotonic() >= state_due:  # at most every STATE_EVERY_S: the file names every student so far
                save_state()
                unsaved, state_due = False, time.monotonic() + STATE_EVERY_S
    finally:
        if unsaved:  # the last students' (an interrupted batch's too)
            try:
                save_state()
            except OSError as exc:
                stats.problems.append(f"writing {STATE_FILE} (for --resume) failed: {type(exc).__name__}: {exc}")
        if reports:
            ordered = {s: reports[s] for s in sorted(reports)}
            files = write_class_files(course, out, ordered, notices, stats.problems, painter)
        if painter is not None:
            painter.close()
    if resume and gradescope:
        for_each_student(resumed, str, lambda name: write_atomic(out / "gradescope" / f"{name}.json",
                                                                 render(reports[name], "gradescope", course)),
                         stats.problems, "writing the Gradescope results")
    ordered = {s: reports[s] for s in sorted(reports)}
    graded = sorted(set(by_student) - set(resumed))
    return BatchResult(out, ordered, graded, sorted(resumed), notes, stats, files, notices, course)


def write_class_files(course: CourseDir, out: Path, reports: dict[str, Report],
                      notices: list[str] | None = None, problems: list[str] | None = None,
                      painter: Painter | None = None) -> list[Path]:
    """summary.csv, junit.xml, scores.png (where matplotlib is installed; else a notice, and an
    older run's image is removed: it would no longer be this class) and report.html. Each file
    on its own: one that cannot be made (listed in `problems`, else raised) never keeps the others out.
    `painter` (plots.Painter, started before grading) draws scores.png while the others are written."""
    from grader.classreport import class_report_html
    from grader.plots import NO_PLOTS, draw, histograms
    from grader.reports import summary_csv, to_junit_batch, write_atomic

    plot = histograms(course, reports)
    if painter is not None:
        painter.send(plot)
    makers: dict[str, Callable[[], str | bytes | None]] = {
        "summary.csv": lambda: summary_csv(course, reports), "junit.xml": lambda: to_junit_batch(reports),
        "scores.png": lambda: painter.png(plot) if painter is not None else draw(plot),
        "report.html": lambda: class_report_html(reports, course.exercise_ids, course.course.title)}
    written = []
    for name in sorted(CLASS_FILES, key=lambda n: n == "scores.png"):  # the image last: drawn meanwhile
        try:
            data = makers[name]()
            if data is None:
                (out / name).unlink(missing_ok=True)
                if notices is not None:
                    notices.append(NO_PLOTS)
                continue
            write_atomic(out / name, data)
        except Exception as exc:
            if problems is None:
                raise
            problems.append(f"{name}: could not be written: {type(exc).__name__}: {exc}")
            continue
        written.append(out / name)
    return sorted(written, key=lambda p: CLASS_FILES.index(p.name))


def _read_report(path: Path) -> Report:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return report_from_json(data)


REPORT_ERRORS = (OSError, ValueError, KeyError, TypeError)


def load_report_file(path: Path) -> Report:
    """One JSON report as `grade --format json` or `grade batch` wrote it; a usage error naming
    the file when it is not one."""
    try:
        return _read_report(path)
    except REPORT_ERRORS as exc:
        raise UsageError(f"{path}: not a grade report ({type(exc).__name__}: {exc}); write one with "
                         "`grade ... --format json --output FILE`") from None


def load_reports(out: Path) -> dict[str, Report]:
    """The per-student reports `grade batch` wrote into `out`, by student (`grade report`).
    A file there that is not one is a usage error naming it: nothing is rebuilt without it."""
    if not out.is_dir():
        raise UsageError(f"{out}: no such folder; pass the --out folder of a `grade batch` run (default: grades/)")
    reports: dict[str, Report] = {}
    for path in sorted(out.glob("*.json")):
        if path.name.startswith(".") or path.name in RESERVED:
            continue
        try:
            reports[path.stem] = _read_report(path)
        except REPORT_ERRORS as exc:
            raise UsageError(f"{path}: not a report of grade batch ({type(exc).__name__}: {exc}); move it out of "
                             f"{out} or grade again") from None
    if not reports:
        raise UsageError(f"{out}: no student reports (<student>.json) to build the class report from; "
                         "run `grade batch SUBMISSIONS --out DIR` first")
    return reports


def summary_json(result: BatchResult) -> str:
    """`grade batch --format json`: the class at a glance, pointing at each student's report."""
    students = []
    for name, report in result.reports.items():
        students.append({"student": visible(name), "score": report.score, "max_score": report.max_score,
                         "exercises": {e.exercise: e.score for e in exercises_of(report)},
                         "flags": [f"{e.exercise}:{f.rule}@{f.line}" for e in exercises_of(report) for f in e.flags],
                         "report": str(result.out / f"{name}.json")})
        late = {e.exercise: e.late_by_s for e in exercises_of(report) if e.late}
        if late:  # only where there is something to say: without deadlines the summary is as it was
            students[-1]["late_by_s"] = late
    data = {"version": 1, "out": str(result.out), "graded": len(result.graded), "resumed": len(result.resumed),
            "students": students, "problems": result.stats.problems + result.stats.config_errors,
            "left_out": result.notes}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def gradescope_json(result: BatchResult) -> str:
    """`grade batch --format gradescope`: each student's Gradescope results.json, by student."""
    from grader.reports import render

    data = {name: json.loads(render(report, "gradescope", result.course)) for name, report in result.reports.items()}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def read_csv(text: str) -> list[dict[str, str]]:
    """Rows of a summary.csv (for tests and scripts)."""
    return list(csv.DictReader(io.StringIO(text)))
