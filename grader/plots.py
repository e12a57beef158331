"""scores.png: a histogram of the students' totals for each exercise (matplotlib).

Importing matplotlib takes most of a second. `grade batch` starts a `Painter` before it
grades: a low-priority `python -m grader.plots` that imports matplotlib on the CPU time the
workers leave idle and draws the class's histograms when the batch ends, while the batch
writes its other files. Anything wrong with it (matplotlib missing, the helper gone) and the
image is drawn here instead, as `grade report` always does.
"""

from __future__ import annotations

import io
import json
import os
import signal
import struct
import subprocess
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from grader.launch import python_command
from grader.results import Report

if TYPE_CHECKING:
    from grader.course import CourseDir

NO_PLOTS = "scores.png not written: matplotlib is not installed (pip install 'course-grader[plots]')"
_FRAME = struct.Struct("<I")
_NONE = b"-"
"""The helper's answer where matplotlib is missing."""


def histograms(course: CourseDir, reports: Mapping[str, Report]) -> list[dict[str, Any]]:
    """What the image shows, as plain data: for each exercise (course order), its totals and
    the most points it gives."""
    from grader.reports import graded_by_exercise

    return [{"exercise": e, "scores": [ex.score for ex in graded],
             "top": max((ex.max_score for ex in graded), default=1.0) or 1.0}
            for e, graded in graded_by_exercise(course, reports).items()]


def draw(data: list[dict[str, Any]]) -> bytes | None:
    """The PNG (no display needed); None where matplotlib, an optional dependency, is missing."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None
    from grader.reports import points_text

    cols = min(3, max(1, len(data)))
    rows = max(1, -(-len(data) // cols))
    fig = Figure(figsize=(4.2 * cols, 3.2 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    for i, item in enumerate(data):
        ax = fig.add_subplot(rows, cols, i + 1)
        scores, top = item["scores"], float(item["top"])
        step = max(top / 20, 0.5) if top > 20 else 1.0
        edges = [k * step - step / 2 for k in range(int(top / step) + 2)]
        ax.hist(scores, bins=edges, color="#4878a8", edgecolor="white")
        mean = sum(scores) / len(scores) if scores else 0.0
        ax.set_title(f"{item['exercise']}: {len(scores)} submissions, mean {mean:.3g}/{points_text(top)}",
                     fontsize=9)
        ax.set_xlabel("points")
        ax.set_ylabel("students")
        ax.set_xlim(-step / 2 - 0.25, top + step / 2 + 0.25)
    if not data:
        fig.add_subplot(1, 1, 1).set_title("no submissions")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


class Painter:
    """A `python -m grader.plots` (`launch.python_command`) started now, at the lowest CPU
    priority, which has matplotlib loaded by the time `png` asks for the image. Plain data goes in (JSON), a PNG
    comes out; it never sees a submission or a report."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._sent = False
        try:
            self._proc = subprocess.Popen(python_command("grader.plots"), stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except OSError:
            self._proc = None

    def send(self, data: list[dict[str, Any]]) -> None:
        """Start drawing `data` (the batch goes on writing its other files meanwhile)."""
        if self._proc is None or self._proc.stdin is None:
            return
        body = json.dumps(data).encode("utf-8")
        try:
            self._proc.stdin.write(_FRAME.pack(len(body)) + body)
            self._proc.stdin.flush()
            self._sent = True
        except OSError:
            self.close()

    def png(self, data: list[dict[str, Any]]) -> bytes | None:
        """The image of `data` (sent before, or now); drawn here if the helper cannot."""
        if not self._sent:
            self.send(data)
        image = self._receive() if self._sent else None
        self.close()
        if image is None:
            return draw(data)
        return None if image == _NONE else image

    def _receive(self) -> bytes | None:
        assert self._proc is not None and self._proc.stdout is not None
        try:
            head = self._proc.stdout.read(_FRAME.size)
            if len(head) != _FRAME.size:
                return None
            (length,) = _FRAME.unpack(head)
            body = self._proc.stdout.read(length)
            return body if len(body) == length else None
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _warm_up() -> None:
    """matplotlib's import and one throwaway drawing (fonts, the Agg canvas)."""
    draw([{"exercise": "warm-up", "scores": [0.0, 1.0], "top": 1.0}])


def main() -> None:
    """The helper: lowest priority, warm up, then draw one request from stdin onto stdout.
    Ctrl-C in the terminal reaches it too: it keeps going, since the batch still writes its
    class files (scores.png included) for what was graded before the interruption."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.nice(19)
    except (OSError, AttributeError):
        pass
    _warm_up()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    head = stdin.read(_FRAME.size)
    if len(head) != _FRAME.size:
        return
    (length,) = _FRAME.unpack(head)
    image = draw(json.loads(stdin.read(length))) or _NONE
    stdout.write(_FRAME.pack(len(image)) + image)
    stdout.flush()


if __name__ == "__main__":
    main()
    os._exit(0)  # without tearing matplotlib and numpy down (~0.1 s that the batch waited for)
