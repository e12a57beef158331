"""`grade batch` on a generated class versus `nbgrader autograde` on some of it as notebooks.

    python benchmarks/batch.py [--submissions 200] [--right 200] [--notebooks 10] [--jobs N] [--timeout 0.5] [--quick]

The class is exercise 3 (gradients of x³) submitted by generated students: right, wrong
values, the analytic formula (a rule violation), crashing (error on import, os._exit,
a segfault) and looping forever (stopped by a short --timeout). `grade batch` runs as an
instructor runs it (a fresh process: Python, torch and the warm-up included); while it
runs, each worker's memory is sampled. Then a minimal nbgrader course is made in a temp
folder (one source notebook: the solution cell and an autograded test cell) and the first
N students' code (right submissions: the class starts with ten) is autograded by nbgrader,
one Jupyter kernel per notebook, and `grade batch` grades the class's right submissions
alone too (as many as the class has students), for a like-for-like ratio. Prints seconds per submission for each and the
ratios; asserts nothing about time (--quick is the CI smoke run: 20 submissions, 2 notebooks).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from grader.batch import default_jobs  # noqa: E402

SOLUTION = (ROOT / "solutions" / "exercise3.py").read_text()
LOOP = "    while True:\n        pass\n"
HEAD = "def cube_grad(x: torch.Tensor) -> torch.Tensor:\n"
KINDS: dict[str, str] = {
    "right": SOLUTION,
    "wrong": SOLUTION.replace("(leaf**3).sum().backward()", "(leaf**2).sum().backward()"),
    "rule": "import torch\n\ndef cube_grad(x):\n    return 3 * x**2\n\ndef cube_second_grad(x):\n    return 6 * x\n",
    "import_error": "import torch\nraise RuntimeError('broken at import')\n",
    "exits": SOLUTION.replace(HEAD, HEAD + "    import os\n    os._exit(1)\n"),
    "segfault": SOLUTION.replace(HEAD, HEAD + "    import ctypes\n    ctypes.string_at(0)\n"),
    "loops": SOLUTION.replace(HEAD, HEAD + LOOP),
}
# one class of 20, repeated: half right, the rest every way of failing
PATTERN = ["right"] * 10 + ["wrong"] * 3 + ["rule"] * 2 + ["import_error", "exits", "segfault"] + ["loops"] * 2


def make_class(folder: Path, n: int) -> list[str]:
    kinds = [PATTERN[i % len(PATTERN)] for i in range(n)]
    for i, kind in enumerate(kinds):
        student = folder / f"s{i:03d}"
        student.mkdir(parents=True)
        (student / "exercise3.py").write_text(KINDS[kind])
    return kinds


class MemorySampler(threading.Thread):
    """Samples the memory of the grader's workers (its child processes) while it runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.stop = threading.Event()
        self.peak = {"rss": 0, "pss": 0, "uss": 0}

    def run(self) -> None:
        import psutil

        try:
            grader = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self.stop.wait(0.25):
            try:
                workers = grader.children()
            except psutil.Error:
                return
            for worker in workers:
                try:
                    if "grader.plots" in worker.cmdline():
                        continue  # scores.png's helper, not a worker
                    info = worker.memory_full_info()
                except psutil.Error:
                    continue
                for key in self.peak:
                    self.peak[key] = max(self.peak[key], int(getattr(info, key, 0)))


def time_grade_batch(subs: Path, out: Path, jobs: int, timeout: float) -> tuple[float, str, dict[str, int]]:
    cmd = [sys.executable, "-m", "grader", "batch", str(subs), "--course", str(ROOT), "--out", str(out),
           "-j", str(jobs), "--timeout", str(timeout), "--no-progress"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler = MemorySampler(proc.pid)
    sampler.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - started
    sampler.stop.set()
    if proc.returncode != 0:
        sys.exit(f"grade batch failed ({proc.returncode}):\n{err[-3000:]}")
    return seconds, err, sampler.peak


def grade_report(err: str, wall: float) -> tuple[str, float, float]:
    """grade batch's own closing line, and its seconds of grading and of warm-up (the wall
    time and no warm-up if the line is missing)."""
    line = next((ln for ln in err.splitlines() if ln.startswith("graded ")), "")
    m = re.search(r"in ([\d.]+) s \(warm-up ([\d.]+) s\)", line)
    return (line, float(m.group(1)), float(m.group(2))) if m else (line, wall, 0.0)


def nbgrader_course(folder: Path, sources: list[str]) -> None:
    """A minimal nbgrader course: one assignment `ps1` whose notebook is one solution cell
    (the student's torch code) and one autograded test cell worth 6 points."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    (folder / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(folder)!r}\nc.CourseDirectory.course_id = 'bench'\n"
        "c.Execute.timeout = 30\n")
    test = ("import torch\n"
            "x = torch.tensor([[5., 8.], [4., 6.]])\n"
            "assert torch.allclose(cube_grad(x), 3 * x**2)\n"
            "assert torch.allclose(cube_second_grad(x), 6 * x)\n")

    def notebook(code: str) -> nbformat.NotebookNode:
        meta = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
        return new_notebook(metadata=meta, cells=[
            new_code_cell(code, metadata={"nbgrader": {"solution": True, "grade": False, "locked": False,
                                                       "grade_id": "answer", "schema_version": 3}}),
            new_code_cell(test, metadata={"nbgrader": {"solution": False, "grade": True, "locked": True,
                                                       "points": 6, "grade_id": "tests", "schema_version": 3}}),
        ])

    source = folder / "source" / "ps1"
    source.mkdir(parents=True)
    solution = "### BEGIN SOLUTION\n" + SOLUTION + "### END SOLUTION\n"
    nbformat.write(notebook(solution), source / "ps1.ipynb")
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "ps1", "--force"], cwd=folder,
                   check=True, capture_output=True)
    for i, code in enumerate(sources):
        target = folder / "submitted" / f"s{i:03d}" / "ps1"
        target.mkdir(parents=True)
        nbformat.write(notebook(code), target / "ps1.ipynb")


def time_nbgrader(folder: Path) -> tuple[float, float]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "ps1", "--force"], cwd=folder,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"nbgrader autograde failed:\n{proc.stderr[-3000:]}")
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gb:
        total = sum(s.score for s in gb.assignment_submissions("ps1"))
    return seconds, total


def machine() -> str:
    """The machine the numbers come from, and how busy it was."""
    import torch

    model = platform.processor() or platform.machine()
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"machine: {len(os.sched_getaffinity(0))} cores ({model}), {gpu}; Python {platform.python_version()}, "
            f"torch {torch.__version__}; load average {load:.1f} at start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--notebooks", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=default_jobs(),
                        help="workers (default: grade batch's own, one more than the cores)")
    parser.add_argument("--timeout", type=float, default=0.5)
    parser.add_argument("--right", type=int, default=0,
                        help="right submissions for the like-for-like run (default: as many as --submissions)")
    parser.add_argument("--quick", action="store_true", help="CI smoke run: 20 submissions, 2 notebooks")
    args = parser.parse_args()
    if args.quick:
        args.submissions, args.notebooks = 20, 2
    print(machine())
    with tempfile.TemporaryDirectory(prefix="grade-bench-") as tmp:
        subs, out = Path(tmp) / "submissions", Path(tmp) / "grades"
        kinds = make_class(subs, args.submissions)
        mix = ", ".join(f"{kinds.count(k)} {k}" for k in KINDS if kinds.count(k))
        wall, err, memory = time_grade_batch(subs, out, args.jobs, args.timeout)
        line, grading, warmup = grade_report(err, wall)
        rows = list(csv.DictReader((out / "summary.csv").open()))
        full = {r["student"] for r in rows if r["score"] == r["max_score"]}
        right = {f"s{i:03d}" for i, k in enumerate(kinds) if k == "right"}
        per_batch = wall / args.submissions
        steady = (grading - warmup) / args.submissions
        print(f"grade batch: {args.submissions} submissions of exercise3 ({mix}; --timeout {args.timeout:g}), "
              f"-j {args.jobs}")
        print(f"  end to end: {wall:.1f} s = {per_batch * 1000:.0f} ms per submission "
              "(process start, import torch and warm-up included)")
        print(f"  grading after warm-up: {grading - warmup:.1f} s = {steady * 1000:.0f} ms per submission "
              f"(warm-up {warmup:.1f} s)")
        loops = kinds.count("loops")
        if loops:
            quick = (grading - warmup - loops * args.timeout / args.jobs) / args.submissions
            print(f"  of which waiting for the {loops} looping submissions' timeouts: "
                  f"~{loops * args.timeout / args.jobs:.1f} s; the rest ~{quick * 1000:.0f} ms per submission")
        print(f"  full marks: {len(full & right)} of {len(right)} right submissions, {len(full - right)} of the "
              f"{len(kinds) - len(right)} others")
        mib = 1 << 20
        print(f"  peak memory per worker: RSS {memory['rss'] / mib:.0f} MiB, PSS {memory['pss'] / mib:.0f} MiB, "
              f"unique {memory['uss'] / mib:.0f} MiB (sampled every 0.25 s)")
        print(f"  grade's own report: {line}")
        # like for like: nbgrader below grades right submissions only, so time grade batch on as many
        # right submissions as the class has students
        right_subs, right_out = Path(tmp) / "right", Path(tmp) / "right-grades"
        right_count = args.right or args.submissions
        for i in range(right_count):
            (right_subs / f"r{i:03d}").mkdir(parents=True)
            (right_subs / f"r{i:03d}" / "exercise3.py").write_text(KINDS["right"])
        right_wall, right_err, _ = time_grade_batch(right_subs, right_out, args.jobs, args.timeout)
        _, right_grading, right_warmup = grade_report(right_err, right_wall)
        right_e2e = right_wall / right_count
        right_steady = (right_grading - right_warmup) / right_count
        print(f"grade batch on {right_count} right submissions: end to end {right_wall:.1f} s = "
              f"{right_e2e * 1000:.0f} ms per submission; after warm-up ({right_warmup:.1f} s) "
              f"{right_steady * 1000:.0f} ms per submission")
        reports = [json.loads((out / f"s{i:03d}.json").read_text()) for i in range(args.notebooks)]
        assert all(r["student"] == f"s{i:03d}" for i, r in enumerate(reports))
        folder = Path(tmp) / "nbgrader"
        folder.mkdir()
        nbgrader_course(folder, [KINDS[k] for k in kinds[:args.notebooks]])
        nb_seconds, nb_total = time_nbgrader(folder)
    per_nb = nb_seconds / args.notebooks
    ours = sum(r["score"] for r in reports)
    print(f"nbgrader autograde: the first {args.notebooks} as one-cell torch notebooks: {nb_seconds:.1f} s = "
          f"{per_nb:.2f} s per submission (class total {nb_total:g}; grade batch gave them {ours:g})")
    print(f"ratio, whole class: grade batch is {per_nb / per_batch:.0f}x faster per submission end to end, "
          f"{per_nb / steady:.0f}x after warm-up")
    print(f"ratio, like for like (right submissions, as nbgrader graded): {per_nb / right_e2e:.0f}x end to end, "
          f"{per_nb / right_steady:.0f}x after warm-up")


if __name__ == "__main__":
    main()
