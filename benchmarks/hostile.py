"""The hostile submissions of tests/hostile/, graded one after another in this process:
the longest grading, and the peak memory (resident set) of the grader's own process.

    python benchmarks/hostile.py [--mode sandbox|process] [--rounds 1]

Uses the test suite's course settings (task timeout 3 s unless a file asks for more,
import timeout 6 s). The sandbox mode is used where bubblewrap works; submissions that
only the sandbox defends are skipped in process mode. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("sandbox", "process"), default=None)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    from test_hostile import CASES  # the parsed expectations of tests/hostile/*.py

    from grader.boundary import sandbox
    from grader.course import CourseDir
    from grader.grading import GradeOptions, grade_source

    root = Path(tempfile.mkdtemp(prefix="hostile-course-"))
    data = yaml.safe_load((ROOT / "course.yaml").read_text(encoding="utf-8"))
    data.setdefault("defaults", {}).update(timeout=3, import_timeout=6)
    (root / "course.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    for folder in ("exercises", "solutions"):
        (root / folder).symlink_to(ROOT / folder)
    course = CourseDir(root)

    mode = args.mode or ("sandbox" if sandbox.bwrap_path() else "process")
    launcher = sandbox.SandboxLauncher() if mode == "sandbox" else sandbox.ForkLauncher()
    baseline = rss_mib()
    times: list[tuple[float, str, float, float]] = []
    started = time.monotonic()
    for _ in range(args.rounds):
        for case in CASES:
            if mode == "process" and case.needs == "sandbox":
                continue
            t = time.monotonic()
            report = grade_source(course, case.exercise, case.source, f"{case.exercise}.py",
                                  GradeOptions(devices=("cpu", "meta"), timeout=case.timeout), launcher)
            times.append((time.monotonic() - t, case.path.stem, report.score, case.timeout))
    total = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    isolation = launcher.isolation
    if hasattr(launcher, "close"):
        launcher.close()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}; isolation: {isolation}")
    print(f"{len(times)} gradings in {total:.1f} s")
    print("slowest gradings (seconds, submission, score, task timeout):")
    for seconds, name, score, timeout in sorted(times, reverse=True)[:8]:
        print(f"  {seconds:6.2f}  {name:28s} {score:g}  (timeout {timeout:g} s)")
    longest = max(times)
    print(f"longest grading: {longest[0]:.2f} s ({longest[1]})")
    print(f"grader's own peak RSS: {peak:.0f} MiB (resident before the first grading: {baseline:.0f} MiB, "
          f"after the last: {rss_mib():.0f} MiB)")


if __name__ == "__main__":
    main()
