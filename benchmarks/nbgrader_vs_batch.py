"""Time `nbgrader autograde` against `grade batch --nbgrader` on the same submissions, in one run.

    python benchmarks/nbgrader_vs_batch.py [--students 10] [--exercise exercise3] [--jobs N]

Both commands run as an instructor runs them (a fresh process each, imports included) on
the same COURSE_DIR: first nbgrader's own autograder (each notebook executed in a Jupyter
kernel), then the trusted path, sequentially (-j 1) and on N warm workers (-j N). Two
students in three answer every task with the reference solution, the others submit the
released notebook unanswered. Prints seconds, ratios, and each path's class total so that
the timings are known to be of the same grading.
"""

from __future__ import annotations

import argparse
import copy
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run(*args: str, cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and everything it started)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(args[:4])} ... failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def submit(folder: Path, exercise: str, students: int) -> None:
    import nbformat

    source = nbformat.read(folder / "source" / exercise / f"{exercise}.ipynb", as_version=4)
    released = nbformat.read(folder / "release" / exercise / f"{exercise}.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: "\n".join(
        line for line in c.source.splitlines() if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)
        for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    for i in range(students):
        nb = copy.deepcopy(released)
        if i % 3 != 2:
            for cell in nb.cells:
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                if gid in answers:
                    cell.source = answers[gid]
        target = folder / "submitted" / f"student{i:02d}" / exercise
        target.mkdir(parents=True)
        nbformat.write(nb, target / f"{exercise}.ipynb")


def class_total(folder: Path, exercise: str) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gb:
        return sum(s.score for s in gb.assignment_submissions(exercise))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--exercise", default="exercise3")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="nbgrader-bench-") as tmp:
        folder = Path(tmp) / "course"
        run(py, "-m", "grader", "render", "--nbgrader", str(folder), "--course", str(ROOT), cwd=ROOT)
        run(py, "-m", "nbgrader", "generate_assignment", args.exercise, cwd=folder)
        submit(folder, args.exercise, args.students)

        plain = run(py, "-m", "nbgrader", "autograde", args.exercise, cwd=folder)
        plain_total = class_total(folder, args.exercise)
        batch = {}
        totals = {}
        for jobs in sorted({1, args.jobs}):
            batch[jobs] = run(py, "-m", "grader", "batch", "--nbgrader", str(folder), "--assignment", args.exercise,
                              "--course", str(ROOT), "-j", str(jobs), cwd=ROOT)
            totals[jobs] = class_total(folder, args.exercise)

    print(f"{args.students} submissions of {args.exercise}, {os.cpu_count()} CPU cores, load average "
          f"{os.getloadavg()[0]:.1f}; per command: wall seconds, CPU seconds (itself and what it started)")
    print(f"  nbgrader autograde (a kernel per notebook)  {plain[0]:7.1f} s wall {plain[1]:7.1f} s CPU"
          f"   class total {plain_total:g}")
    for jobs, (wall, cpu) in batch.items():
        print(f"  grade batch --nbgrader -j {jobs:<2}                {wall:7.1f} s wall {cpu:7.1f} s CPU"
              f"   class total {totals[jobs]:g}   {plain[0] / wall:4.1f}x less wall time, "
              f"{plain[1] / cpu:4.1f}x less CPU")


if __name__ == "__main__":
    main()
