"""`grade watch`: re-grade on every save, in a warm process.

torch, the runner's pre-warmed imports and the references stay loaded between
saves, so a re-grade costs one forked child (about 0.1-0.2 s), not a cold start.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from grader.course import CourseDir
from grader.errors import GraderError


def changed_tasks(before: Any, after: Any) -> set[str]:
    """Tasks whose status, score or feedback changed between two reports (highlighted in the table)."""
    if before is None:
        return set()
    old = {t.name: (t.status, t.score, t.feedback) for t in before.tasks}
    return {t.name for t in after.tasks if old.get(t.name) != (t.status, t.score, t.feedback)}


def describe_changes(before: Any, after: Any) -> str:
    """`cube_grad: failed → passed` (or `new feedback`) for each changed task, under the table."""
    if before is None:
        return ""
    old = {t.name: t.status for t in before.tasks}
    changed = changed_tasks(before, after)
    parts = [f"{t.name}: {old[t.name]} → {t.status}" if old.get(t.name, t.status) != t.status
             else f"{t.name}: new feedback" for t in after.tasks if t.name in changed]
    return "; ".join(parts)


def file_changes(target: Path) -> Iterator[object]:
    """One item per save of `target` (editors that replace the file on save included)."""
    from watchfiles import watch as watch_files

    wanted = str(target)
    for changes in watch_files(target.parent, debounce=50, step=15, recursive=False,
                               watch_filter=lambda _change, path: path == wanted):
        if changes:
            yield changes


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def watch(course: CourseDir, ex_id: str, opts: Any, grade: Callable[..., Any], *,
          changes: Iterable[object] | None = None, console: Any = None) -> None:
    """Grade now, then again after every save that changed the file, until Ctrl-C
    (or until `changes`, a stand-in for the file watcher, runs out)."""
    from rich.console import Console
    from rich.markup import escape

    from grader.reports import print_table

    con = console if console is not None else Console(highlight=False)
    target = course.stub_file(ex_id)
    previous: Any = None
    graded_digest: str | None = None

    def once(saved_at: float | None) -> None:
        nonlocal previous, graded_digest
        graded_digest = _digest(target)
        try:
            report = grade(course, ex_id, opts, announce=previous is None)
        except GraderError as exc:
            if previous is None:
                raise
            con.print(f"[red]{escape(str(exc))}[/]\n[dim]fix it and save again (Ctrl-C to stop)[/]")
            return
        con.clear()
        print_table(report, console=con, changed=changed_tasks(previous, report))
        summary = describe_changes(previous, report)
        if summary:
            con.print(f"[bold cyan]changed since your last save:[/] {escape(summary)}")
        elif previous is not None:
            con.print("[dim]no change in the results since your last save[/]")
        took = time.monotonic() - saved_at if saved_at is not None else report.seconds
        con.print(f"[dim]graded in {took:.2f} s; watching {escape(str(target))} (Ctrl-C to stop)[/]")
        previous = report

    once(None)
    stream = changes if changes is not None else file_changes(target)
    try:
        for _ in stream:
            saved_at = time.monotonic()
            digest = _digest(target)
            if digest is None:
                con.print(f"[yellow]{escape(str(target))} is gone; waiting for it to come back[/]")
                continue
            if digest == graded_digest:
                continue  # saved without changes: same code, same grade
            once(saved_at)
    except KeyboardInterrupt:
        con.print("stopped watching")
        raise  # exit code 130, as for any Ctrl-C
