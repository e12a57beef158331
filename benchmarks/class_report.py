"""`grade report` on a synthetic class: the size of report.html and the time to rebuild it.

    python benchmarks/class_report.py [--students 200] [--quick]

Writes one <student>.json per student into a temporary folder, as `grade batch` would:
every exercise of the course, each task passed or failed with feedback taken from the
graded scenarios in tests/scenarios (so the failure groups look like a real class's),
some timeouts and crashes, some missing exercises. Then runs `grade report` on it (a
separate process, as an instructor would) and prints the page's size and the wall time
(median of 3). Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.batch import load_reports  # noqa: E402
from grader.classreport import class_report_html  # noqa: E402
from grader.course import CourseDir  # noqa: E402


def scenario_feedback() -> dict[str, list[tuple[str, str]]]:
    """(status, feedback) of every graded scenario's failed tasks, by exercise."""
    found: dict[str, list[tuple[str, str]]] = {}
    for path in sorted((ROOT / "tests" / "scenarios").glob("*/*/expected.json")):
        data = json.loads(path.read_text())
        for t in data.get("tasks", []):
            if t["status"] != "passed":
                found.setdefault(path.parent.parent.name, []).append((t["status"], t["feedback"]))
    return found


def synthetic_class(out: Path, students: int, seed: int = 0) -> None:
    """`students` per-student reports in `out`, as `grade batch` writes them."""
    course = CourseDir(ROOT)
    rng = random.Random(seed)
    feedback = scenario_feedback()
    out.mkdir(parents=True, exist_ok=True)
    for n in range(students):
        name = f"student{n:03d}"
        skill = rng.random()
        exercises = []
        for ex_id in course.exercise_ids:
            if rng.random() < 0.04:
                continue  # not submitted
            exercise = course.exercise(ex_id)
            tasks = []
            for task in exercise.tasks:
                if rng.random() < 0.35 + 0.6 * skill:
                    status, text = "passed", ""
                else:
                    status, text = rng.choice(feedback.get(ex_id) or [("failed", "[values] wrong values")])
                tasks.append({"name": task.name, "score": task.points if status == "passed" else 0.0,
                              "max_score": task.points, "status": status, "feedback": text,
                              "devices": {"cpu": status, "meta": status}, "time_s": round(rng.random() / 5, 3)})
            exercises.append({"version": 1, "exercise": ex_id, "title": exercise.title,
                              "score": sum(t["score"] for t in tasks), "max_score": sum(t["max_score"] for t in tasks),
                              "tasks": tasks, "output": "loss 0.25\n" if rng.random() < 0.2 else "",
                              "isolation": "bwrap", "time_s": round(rng.random(), 3)})
        report = {"version": 1, "student": name, "score": sum(e["score"] for e in exercises),
                  "max_score": sum(e["max_score"] for e in exercises), "exercises": exercises}
        (out / f"{name}.json").write_text(json.dumps(report, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="20 students, one run (a smoke test for CI)")
    args = parser.parse_args()
    students, runs = (20, 1) if args.quick else (args.students, 3)
    with tempfile.TemporaryDirectory(prefix="class-report-") as tmp:
        out = Path(tmp) / "grades"
        synthetic_class(out, students)
        inputs = sum(p.stat().st_size for p in out.glob("*.json"))
        times, cpu = [], []
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "grader", "report", str(out)], cwd=ROOT,
                                  capture_output=True, text=True)
            times.append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if proc.returncode != 0:
                sys.exit(f"grade report failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        size = (out / "report.html").stat().st_size
        print(f"{students} students, {len(CourseDir(ROOT).exercise_ids)} exercises: "
              f"{inputs} bytes of per-student JSON")
        print(f"report.html: {size} bytes ({size / 1024:.0f} KiB, {size / students / 1024:.1f} KiB per student)")
        print(f"grade report (summary.csv, junit.xml, scores.png, report.html): median {statistics.median(times):.2f} s"
              f" wall, {statistics.median(cpu):.2f} s CPU, of {runs} run(s)")
        reports = load_reports(out)
        started = time.perf_counter()
        class_report_html(reports, CourseDir(ROOT).exercise_ids)
        print(f"of which report.html alone (in-process, reports loaded): {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
