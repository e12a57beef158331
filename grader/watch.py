"""`grade watch`: re-grade on every save, in a warm process (torch stays imported)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from grader.course import CourseDir


def changed_tasks(before: Any, after: Any) -> set[str]:
    """Tasks whose status changed between two reports (highlighted in the table)."""
    if before is None:
        return set()
    old = {t.name: t.status for t in before.tasks}
    return {t.name for t in after.tasks if old.get(t.name) != t.status}


def watch(course: CourseDir, ex_id: str, opts: Any, grade: Callable[..., Any]) -> None:
    from rich.console import Console
    from watchfiles import watch as watch_files

    from grader.reports import print_table

    console = Console(highlight=False)
    previous = None

    def once() -> None:
        nonlocal previous
        report = grade(course, ex_id, opts, announce=previous is None)
        console.clear()
        print_table(report, console=console, changed=changed_tasks(previous, report))
        console.print(f"[dim]graded in {report.seconds:.2f} s; watching {course.stub_file(ex_id)} "
                      "(Ctrl-C to stop)[/]")
        previous = report

    once()
    target = course.stub_file(ex_id)
    try:
        for changes in watch_files(target.parent, debounce=50, step=20,
                                   watch_filter=lambda _change, path: path == str(target)):
            if changes:
                once()
    except KeyboardInterrupt:
        console.print("stopped watching")
