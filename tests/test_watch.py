"""`grade watch`: re-grades on every save that changes the file, clears the screen, and marks
the tasks whose result changed. The file watcher is replaced by a list of saves."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, SCENARIOS
from rich.console import Console

from grader.cli import grade_exercise
from grader.course import CourseDir
from grader.grading import GradeOptions
from grader.watch import file_changes, watch

CLEAR = "\x1b[2J"


def test_watch_regrades_each_save_and_marks_changed_tasks(tmp_path: Path) -> None:
    course = CourseDir(ROOT, tmp_path / "workspace")
    stub = course.stub_file("exercise3")

    def saves() -> Iterator[str]:
        stub.write_text((SCENARIOS / "exercise3" / "analytic_formula" / "submission.py").read_text())
        yield "analytic formula"
        stub.write_text(stub.read_text())
        yield "saved without a change"
        stub.write_text((ROOT / "solutions" / "exercise3.py").read_text())
        yield "solution"

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system=None, width=200)
    watch(course, "exercise3", GradeOptions(devices=("cpu", "meta"), timeout=5), grade_exercise, changes=saves(),
          console=console)
    screens = out.getvalue().split(CLEAR)[1:]
    assert len(screens) == 3  # the first grading, then one per save that changed the file
    first, analytic, solved = screens
    assert "0/6 points" in first and "changed" not in first
    assert "0/6 points" in analytic and "use autograd" in analytic
    assert "cube_grad ◀ changed" in analytic
    assert "6/6 points" in solved and "full marks" in solved
    assert "cube_grad: failed → passed; cube_second_grad: failed → passed" in solved
    assert "watching" in solved and "graded in" in solved


@pytest.mark.timeout(60)
def test_file_changes_reports_saves_of_the_watched_file(tmp_path: Path) -> None:
    target = tmp_path / "exercise3.py"
    target.write_text("x = 1\n")
    stop = threading.Event()

    def edit() -> None:
        n = 0
        while not stop.wait(0.1):
            (tmp_path / "other.py").write_text(str(n))  # not watched
            target.write_text(f"x = {n}\n")
            n += 1

    editor = threading.Thread(target=edit, daemon=True)
    editor.start()
    try:
        changes = next(iter(file_changes(target)))
    finally:
        stop.set()
        editor.join()
    assert {path for _, path in changes} == {str(target)}  # type: ignore[attr-defined]
