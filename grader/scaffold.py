"""`grade new`: a new exercise from a template that already passes `grade check`.

Writes exercises/<id>.yaml and solutions/<id>.py (never over an existing
file) and appends the id to course.yaml as text, so that the instructor's
comments and layout there survive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from grader.course import CourseDir
from grader.errors import ConfigError, UsageError
from grader.loader import display_path
from grader.reports import write_atomic
from grader.schemadoc import SCHEMA_FILES

_NUMBERED = re.compile(r"(?:ex(?:ercise)?)?(\d+)", re.IGNORECASE)

EXERCISE_TEMPLATE = """\
{schema_line}format_version: 1
title: {title}
text: |
  What the student reads first: the idea of the exercise in a few short
  paragraphs, in your own words. It becomes the docstring at the top of
  workspace/{ex_id}.py (and the first cell of the nbgrader notebook).
tasks:
  - name: double
    signature: "(x: torch.Tensor) -> torch.Tensor"
    doc: |
      Return 2 * x, with the shape, dtype and device of x.
    points: 1
    hints:
      - "A first nudge, shown by `grade hint {ex_id}`."
      - "A second, more concrete one: multiplying a tensor by a number scales every entry."
    cases:
      # shown to the student; `grade check` verifies the written `expected`
      - args: {{x: {{tensor: [1.0, 2.0, 3.0]}}}}
        expected: [2.0, 4.0, 6.0]
      # graded but never shown; `variant:` replaces `args:` with a student's own inputs (--student ID)
      - args: {{x: {{random: randn, shape: [3, 4], dtype: float64}}}}
        hidden: true
        variant: {{x: {{random: randn, shape: [{{randint: [1, 6]}}, 4], dtype: float64}}}}
"""

SOLUTION_TEMPLATE = '''\
"""Reference solution of {ex_id} ({title}). Plain Python, imported by the grader, never shown to students."""

import torch


def double(x: torch.Tensor) -> torch.Tensor:
    return 2 * x
'''


@dataclass(frozen=True)
class Scaffolded:
    ex_id: str
    exercise_file: Path
    solution_file: Path


def new_id(course: CourseDir, name: str | None) -> str:
    """`14`, `ex14` and `exercise14` name exercise14; no name means the next free number."""
    if name is None:
        numbers = [int(m.group(1)) for ex in course.exercise_ids if (m := _NUMBERED.fullmatch(ex))]
        return f"exercise{max(numbers, default=0) + 1}"
    m = _NUMBERED.fullmatch(name.strip())
    if m:
        return f"exercise{int(m.group(1))}"
    if not name.isidentifier():
        raise UsageError(f"'{name}' cannot be an exercise id; use a name like exercise14 (or just 14)")
    return name


def _append_to_course(text: str, ex_id: str, shown: str) -> str:
    """course.yaml's text with ex_id added at the end of its `exercises:` list, comments kept."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"exercises\s*:", line)), None)
    if start is None:
        raise ConfigError(shown, None, "exercises", "no top-level 'exercises:' list to add the new id to")
    head = lines[start]
    flow = re.match(r"(exercises\s*:\s*\[)(.*)\](\s*(#.*)?\n?)$", head)
    if flow:
        items = flow.group(2).strip()
        lines[start] = f"{flow.group(1)}{items + ', ' if items else ''}{ex_id}]{flow.group(3)}"
        return "".join(lines)
    last_item = None
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if re.match(r"\s+-\s", line):
            last_item = i
        elif line.strip() and not line.startswith((" ", "\t", "#")):
            break
    if last_item is None:
        raise ConfigError(shown, start + 1, "exercises", "write the list one id per line ('  - exercise1') "
                                                         "so that grade new can add to it")
    indent = re.match(r"(\s+-\s+)", lines[last_item])
    assert indent is not None
    if not lines[last_item].endswith("\n"):
        lines[last_item] += "\n"
    lines.insert(last_item + 1, f"{indent.group(1)}{ex_id}\n")
    return "".join(lines)


def scaffold(course: CourseDir, name: str | None, title: str | None = None) -> Scaffolded:
    """Write the two files of a new exercise and list it in course.yaml."""
    ex_id = new_id(course, name)
    exercise_file, solution_file = course.exercise_file(ex_id), course.solution_file(ex_id)
    if ex_id in course.exercise_ids:
        raise UsageError(f"{ex_id} is already in {display_path(course.course_file)}; pick another name")
    for path in (exercise_file, solution_file):
        if path.exists():
            raise UsageError(f"{display_path(path)} already exists; grade new never overwrites a file "
                             "(remove it, or add the id to course.yaml by hand)")
    if not title:
        title = f"Exercise {ex_id.removeprefix('exercise')}" if _NUMBERED.fullmatch(ex_id) else ex_id
    shown = display_path(course.course_file)
    course_text = _append_to_course(course.course_file.read_text(encoding="utf-8"), ex_id, shown)
    listed = (yaml.safe_load(course_text) or {}).get("exercises")
    if not isinstance(listed, list) or listed[-1:] != [ex_id]:
        raise ConfigError(shown, None, "exercises", f"could not add '{ex_id}' to the list; add it by hand")
    schema_file = course.root / "docs" / "schema" / SCHEMA_FILES["exercise"]
    schema_line = (f"# yaml-language-server: $schema=../docs/schema/{SCHEMA_FILES['exercise']}\n"
                   if schema_file.is_file() else "")
    quoted = yaml.safe_dump(title, default_style=None, width=1000).strip().removesuffix("\n...").strip()
    write_atomic(exercise_file, EXERCISE_TEMPLATE.format(schema_line=schema_line, title=quoted, ex_id=ex_id))
    write_atomic(solution_file, SOLUTION_TEMPLATE.format(ex_id=ex_id, title=title))
    write_atomic(course.course_file, course_text)
    return Scaffolded(ex_id, exercise_file, solution_file)
