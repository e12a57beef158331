"""The result model: plain data with derived totals. Renderers live in reports.py."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from grader.inert import visible
from grader.scan import Flag

REPORT_VERSION = 1
GRADER_ERROR = "grader_error"
"""The grader could not complete this grading for a reason that is not the submission's: never
kept by `--resume`, and `grade batch` exits 3 naming the student."""
STATUSES = ("passed", "failed", "error", "timeout", GRADER_ERROR)


@dataclass(frozen=True)
class TaskResult:
    name: str
    score: float
    max_score: float
    status: str
    """One of `STATUSES`."""
    feedback: str = ""
    devices: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    """Wall time of the task in the child (0 when it never ran); JUnit's per-testcase time."""
    hidden: dict[str, str] | None = None
    """For a task with hidden cases: `status` and `feedback` of those cases alone (the feedback
    names the rule, never the case); None for a task without."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "feedback", visible(self.feedback))  # the student's text, made inert once
        if self.hidden is not None:
            object.__setattr__(self, "hidden", {"status": str(self.hidden.get("status", "")),
                                                "feedback": visible(str(self.hidden.get("feedback", "")))})

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "score": self.score, "max_score": self.max_score,
                                "status": self.status, "feedback": self.feedback, "devices": dict(self.devices),
                                "time_s": round(self.seconds, 3)}
        if self.hidden is not None:
            data["hidden"] = dict(self.hidden)
        return data


@dataclass(frozen=True)
class ExerciseReport:
    exercise: str
    title: str
    tasks: tuple[TaskResult, ...]
    output: str = ""
    isolation: str = "process"
    seconds: float = 0.0
    student: str | None = None
    limits: dict[str, Any] = field(default_factory=dict, compare=False)
    """The limits that applied to the child and how they were held (runner.applied_limits)."""
    flags: tuple[Flag, ...] = ()
    """Constructs in the source that reach into the interpreter or the grader (scan.py); no points."""
    submitted_at: datetime | None = None
    """When the submission was handed in (`grade batch`: its file's time; nbgrader: its
    timestamp.txt), to the second; set only where the exercise has a deadline."""
    deadline: datetime | None = None
    """The exercise's deadline in course.yaml when it was graded; None: it has none."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "output", visible(self.output))
        if self.student is not None:
            object.__setattr__(self, "student", visible(self.student))

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tasks)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tasks)

    @property
    def full_marks(self) -> bool:
        return all(t.status == "passed" for t in self.tasks)

    @property
    def grader_error(self) -> bool:
        return any(t.status == GRADER_ERROR for t in self.tasks)

    @property
    def late_by_s(self) -> float | None:
        """Seconds handed in after the deadline (0 on time); None where there is no deadline."""
        if self.submitted_at is None or self.deadline is None:
            return None
        return max(0.0, (self.submitted_at - self.deadline).total_seconds())

    @property
    def late(self) -> bool:
        return bool(self.late_by_s)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": REPORT_VERSION, "exercise": self.exercise, "title": self.title,
            "score": self.score, "max_score": self.max_score,
            "tasks": [t.to_json() for t in self.tasks],
            "output": self.output, "isolation": self.isolation, "time_s": round(self.seconds, 3),
        }
        if self.flags:
            data["flags"] = [f.to_json() for f in self.flags]
        if self.student is not None:
            data["student"] = self.student
        if self.limits:
            data["limits"] = self.limits
        if self.late_by_s is not None:
            assert self.submitted_at is not None and self.deadline is not None
            data.update({"submitted_at": self.submitted_at.isoformat(), "deadline": self.deadline.isoformat(),
                         "late": self.late, "late_by_s": self.late_by_s})
        return data


@dataclass(frozen=True)
class CourseReport:
    """Several exercises: `grade all`, or one student's files in `grade batch`."""

    exercises: tuple[ExerciseReport, ...]
    student: str | None = None

    def __post_init__(self) -> None:
        if self.student is not None:
            object.__setattr__(self, "student", visible(self.student))

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises)

    @property
    def full_marks(self) -> bool:
        return all(e.full_marks for e in self.exercises)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"version": REPORT_VERSION, "score": self.score, "max_score": self.max_score,
                                "exercises": [e.to_json() for e in self.exercises]}
        if self.student is not None:
            data["student"] = self.student
        return data


Report = ExerciseReport | CourseReport


def exercises_of(report: Report) -> tuple[ExerciseReport, ...]:
    return report.exercises if isinstance(report, CourseReport) else (report,)


def has_grader_error(report: Report) -> bool:
    return any(ex.grader_error for ex in exercises_of(report))


def duration_text(seconds: float) -> str:
    """How late, as people read it, in at most two units and without spaces (a field of a
    space-separated list): `45s`, `12m30s`, `2h05m`, `3d04h`; a part of a second counts as one."""
    s = math.ceil(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def late_summary(report: Report) -> str:
    """`exercise3:2h05m exercise4:45s`: the exercises handed in after their deadline, and by how much."""
    return " ".join(f"{ex.exercise}:{duration_text(ex.late_by_s or 0.0)}" for ex in exercises_of(report) if ex.late)


def has_deadline(reports: Iterable[Report]) -> bool:
    """Whether any exercise of these reports was graded against a deadline (reports without
    one show nothing about lateness, exactly as before deadlines existed)."""
    return any(ex.deadline is not None for r in reports for ex in exercises_of(r))

