"""Where a course's files live. Every path in the layout is built here, once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from grader.errors import ConfigError, UsageError, did_you_mean
from grader.loader import display_path, line_of, load_model
from grader.schema import Course, Exercise

COURSE_FILE = "course.yaml"


def find_course_root(start: Path | None = None) -> Path:
    """The nearest directory at or above `start` that holds course.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / COURSE_FILE).is_file():
            return folder
    raise UsageError(
        f"no {COURSE_FILE} found in {here} or any folder above it; "
        "run grade inside the course folder or pass --course PATH"
    )


@dataclass
class CourseDir:
    """A course on disk: course.yaml, exercises/, solutions/ and a workspace."""

    root: Path
    workspace: Path = field(default=Path())

    def __post_init__(self) -> None:
        self.root = self.root.resolve()
        if self.workspace == Path():
            self.workspace = self.root / "workspace"
        self._exercises: dict[str, Exercise] = {}

    @classmethod
    def open(cls, course: Path | None = None, workspace: Path | None = None) -> CourseDir:
        if course is not None:
            course = course.resolve()
            root = course.parent if course.is_file() else course
            if not (root / COURSE_FILE).is_file():
                raise UsageError(f"{course} has no {COURSE_FILE}; pass the course folder or its course.yaml")
        else:
            root = find_course_root()
        return cls(root, workspace.resolve() if workspace else Path())

    # -- paths: the only place they are built
    @property
    def course_file(self) -> Path:
        return self.root / COURSE_FILE

    def exercise_file(self, ex_id: str) -> Path:
        return self.root / "exercises" / f"{ex_id}.yaml"

    def solution_file(self, ex_id: str) -> Path:
        return self.root / "solutions" / f"{ex_id}.py"

    def stub_file(self, ex_id: str) -> Path:
        return self.workspace / f"{ex_id}.py"

    @property
    def state_dir(self) -> Path:
        return self.workspace / ".grade"

    # -- models
    @cached_property
    def course(self) -> Course:
        return load_model(self.course_file, Course)

    def exercise(self, ex_id: str) -> Exercise:
        if ex_id not in self._exercises:
            path = self.exercise_file(ex_id)
            if not path.is_file() and ex_id in self.exercise_ids:
                raise self._missing_exercise(ex_id)
            self._exercises[ex_id] = load_model(path, Exercise)
        return self._exercises[ex_id]

    def _missing_exercise(self, ex_id: str) -> ConfigError:
        """course.yaml lists an id without a file: point at the id in course.yaml."""
        i = self.exercise_ids.index(ex_id)
        present = sorted(p.stem for p in (self.root / "exercises").glob("*.yaml"))
        letters = re.sub(r"\d", "", ex_id)
        hint = did_you_mean(ex_id, [p for p in present if re.sub(r"\d", "", p) != letters])  # a typo, not a new id
        what = f"exercises/{ex_id}.yaml does not exist"
        fix = f"{hint}" if hint else f"; create it, or remove '{ex_id}' from the list"
        return ConfigError(display_path(self.course_file), line_of(self.course_file, ("exercises", i)),
                           f"exercises[{i}]", what + fix)

    def loadable(self) -> tuple[list[str], dict[str, ConfigError]]:
        """The ids whose exercise file loads, in course order, and the errors of those that do not:
        one broken file must not lock a student out of the others."""
        ids: list[str] = []
        broken: dict[str, ConfigError] = {}
        for ex_id in self.exercise_ids:
            try:
                self.exercise(ex_id)
            except ConfigError as exc:
                broken[ex_id] = exc
            else:
                ids.append(ex_id)
        return ids, broken

    @property
    def exercise_ids(self) -> list[str]:
        return list(self.course.exercises)

    def resolve_id(self, name: str) -> str:
        """`exercise3`, `3` or `ex3` -> `exercise3`; unknown ids get a suggestion."""
        ids = self.exercise_ids
        if name in ids:
            return name
        m = re.fullmatch(r"(?:ex(?:ercise)?)?(\d+)", name.strip().lower())
        if m and f"exercise{int(m.group(1))}" in ids:
            return f"exercise{int(m.group(1))}"
        raise UsageError(f"no exercise '{name}' in {display_path(self.course_file)}{did_you_mean(name, ids)}"
                         + ("" if did_you_mean(name, ids) else f"; exercises are {', '.join(ids)}"))

    def check_layout(self) -> list[ConfigError]:
        """Files that course.yaml lists but are missing, and the reverse."""
        problems: list[ConfigError] = []
        listed = set(self.exercise_ids)
        for ex_id in self.exercise_ids:
            if not self.exercise_file(ex_id).is_file():
                problems.append(ConfigError(display_path(self.course_file), None, "exercises",
                                            f"'{ex_id}' is listed but exercises/{ex_id}.yaml does not exist"))
            if not self.solution_file(ex_id).is_file():
                problems.append(ConfigError(display_path(self.course_file), None, "exercises",
                                            f"'{ex_id}' has no reference solution solutions/{ex_id}.py"))
        for path in sorted((self.root / "exercises").glob("*.yaml")):
            if path.stem not in listed:
                problems.append(ConfigError(display_path(path), None, "",
                                            f"not listed in course.yaml; add '{path.stem}' to its exercises"))
        return problems
