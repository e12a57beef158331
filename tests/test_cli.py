"""The command line as a student and an instructor use it, through the real `grade` process.

Each test runs a few CLI calls and checks several things a user would notice: files
rendered and never overwritten, exercise names, exit codes, the JSON contract, the list,
hints, stubs, student variants and what happens to a submission's own output.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import ROOT, SCENARIOS, run_grade

from grader.course import CourseDir


def _json(stdout: str) -> dict:
    """Exactly one JSON document: json.loads refuses anything before or after it."""
    data = json.loads(stdout)
    assert isinstance(data, dict)
    return data


def test_stub_is_rendered_once_graded_zero_and_never_overwritten(tmp_path: Path) -> None:
    ws = tmp_path / "workspace"
    stub = ws / "exercise3.py"

    first = run_grade("3", "--workspace", str(ws), "--devices", "cpu,meta")
    assert first.returncode == 1, first.stderr
    assert stub.is_file()
    assert f"Created {stub}" in first.stderr
    compile(stub.read_text(encoding="utf-8"), str(stub), "exec")  # the unedited stub is valid Python
    assert "raise NotImplementedError" in stub.read_text(encoding="utf-8")
    table = first.stdout
    assert "cube_grad" in table and "cube_second_grad" in table
    assert "0/3" in table and "not implemented" in table
    assert "exercise3: 0/6 points" in table

    mine = (SCENARIOS / "exercise3" / "full_marks" / "submission.py").read_text(encoding="utf-8")
    stub.write_text(mine, encoding="utf-8")
    second = run_grade("ex3", "--workspace", str(ws), "--devices", "cpu,meta", "--format", "json")
    assert second.returncode == 0, second.stderr
    assert "Created" not in second.stderr
    assert stub.read_text(encoding="utf-8") == mine  # the student's file is never overwritten
    report = _json(second.stdout)
    assert (report["exercise"], report["score"], report["max_score"]) == ("exercise3", 6.0, 6.0)
    assert [t["status"] for t in report["tasks"]] == ["passed", "passed"]

    # `grade list` shows titles, points and the latest score; an edit since then is flagged
    listed = run_grade("list", "--workspace", str(ws))
    assert listed.returncode == 0, listed.stderr
    course = CourseDir.open(ROOT)
    rows = {line.split("│")[1].strip(): line for line in listed.stdout.splitlines() if line.count("│") >= 4}
    assert set(rows) == set(course.exercise_ids)
    for ex_id in course.exercise_ids:
        exercise = course.exercise(ex_id)
        assert exercise.title in rows[ex_id] and f" {exercise.max_score:g} " in rows[ex_id]
    assert "6/6 ✔" in rows["exercise3"]
    assert "not started" in rows["exercise1"]
    stub.write_text(mine + "# an edit\n", encoding="utf-8")
    relisted = run_grade("list", "--workspace", str(ws))
    assert "6/6 (changed since; run grade again)" in relisted.stdout
    as_json = run_grade("list", "--workspace", str(ws), "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    listing = _json(as_json.stdout)
    assert (listing["version"], listing["course"]) == (1, course.course.title)
    assert [e["exercise"] for e in listing["exercises"]] == course.exercise_ids
    by_id = {e["exercise"]: e for e in listing["exercises"]}
    assert by_id["exercise3"] == {"exercise": "exercise3", "title": course.exercise("exercise3").title,
                                  "max_score": 6.0, "status": "changed", "score": 6.0, "graded_max_score": 6.0}
    assert (by_id["exercise1"]["status"], by_id["exercise1"]["score"]) == ("not started", None)


def test_hints_come_one_at_a_time(tmp_path: Path) -> None:
    ws = tmp_path / "workspace"
    hints = CourseDir.open(ROOT).exercise("exercise3").tasks[0].hints
    assert len(hints) >= 2
    one = run_grade("hint", "exercise3", "--workspace", str(ws))
    two = run_grade("hint", "exercise3", "--workspace", str(ws))
    assert (one.returncode, two.returncode) == (0, 0)
    assert one.stdout == f"Hint 1/{len(hints)} for exercise3 cube_grad:\n{hints[0]}\n"
    assert two.stdout == f"Hint 2/{len(hints)} for exercise3 cube_grad:\n{hints[1]}\n"


def test_hint_after_full_marks_says_so_and_all_shows_the_hints_again(tmp_path: Path) -> None:
    from grader.grading import reference_submission

    ws = tmp_path / "workspace"
    ws.mkdir()
    hints = CourseDir.open(ROOT).exercise("exercise3").tasks[0].hints
    one = run_grade("hint", "exercise3", "--workspace", str(ws))
    two = run_grade("hint", "exercise3", "--workspace", str(ws))
    assert (one.returncode, two.returncode) == (0, 0)
    (ws / "exercise3.py").write_text(reference_submission(CourseDir.open(ROOT), "exercise3"))
    graded = run_grade("exercise3", "--workspace", str(ws), "--devices", "cpu", env={"GRADER_ISOLATION": "process"})
    assert graded.returncode == 0, graded.stdout + graded.stderr
    after = run_grade("hint", "exercise3", "--workspace", str(ws))
    assert after.stdout == ("exercise3: full marks at your last grading, every task passed; no hint needed. "
                            "`grade hint exercise3 --all` shows the hints you have seen, "
                            "`grade hint exercise3 --task NAME` the next one of a task.\n")
    again = run_grade("hint", "exercise3", "--all", "--workspace", str(ws))
    assert again.stdout == (f"Hint 1/{len(hints)} for exercise3 cube_grad:\n{hints[0]}\n\n"
                            f"Hint 2/{len(hints)} for exercise3 cube_grad:\n{hints[1]}\n")
    none = run_grade("hint", "exercise3", "--all", "--task", "cube_second_grad", "--workspace", str(ws))
    assert none.stdout == ("No hints shown yet for exercise3 cube_second_grad; `grade hint exercise3` shows the "
                           "next one.\n")


def test_render_writes_every_stub_and_student_variants_differ(tmp_path: Path) -> None:
    course = CourseDir.open(ROOT)
    plain = run_grade("render", "--out", str(tmp_path / "stubs"))
    assert plain.returncode == 0, plain.stderr
    written = sorted(p.name for p in (tmp_path / "stubs").glob("*.py"))
    assert written == sorted(f"{ex_id}.py" for ex_id in course.exercise_ids)
    for path in (tmp_path / "stubs").glob("*.py"):
        ast.parse(path.read_text(encoding="utf-8"), str(path))

    alice = run_grade("render", "--out", str(tmp_path / "alice"), "--student", "alice")
    bob = run_grade("render", "--out", str(tmp_path / "bob"), "--student", "bob")
    assert (alice.returncode, bob.returncode) == (0, 0), alice.stderr + bob.stderr
    quiz_alice = (tmp_path / "alice" / "exercise2.py").read_text(encoding="utf-8")
    quiz_bob = (tmp_path / "bob" / "exercise2.py").read_text(encoding="utf-8")
    questions = [line for line in quiz_alice.splitlines() if line.startswith("# Question")]
    assert len(questions) == 10
    assert quiz_alice != quiz_bob
    assert questions[:5] == [line for line in quiz_bob.splitlines() if line.startswith("# Question")][:5]

    # grading as alice renders (and grades) the same variant as `grade render --student alice`
    ws = tmp_path / "workspace"
    graded = run_grade("exercise2", "--student", "alice", "--workspace", str(ws), "--format", "json")
    assert graded.returncode == 1, graded.stderr
    assert (ws / "exercise2.py").read_text(encoding="utf-8") == quiz_alice
    report = _json(graded.stdout)
    assert (report["score"], report["student"]) == (0.0, "alice")
    assert {t["feedback"] for t in report["tasks"]} == {"[not implemented] not answered yet: replace ... with your answer"}


def test_grade_all_wraps_reports_and_output_file_is_written_atomically(tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "exercises").mkdir(parents=True)
    (course / "solutions").mkdir()
    (course / "course.yaml").write_text("format_version: 1\ntitle: Two exercises\nexercises: [exercise2, exercise3]\n",
                                        encoding="utf-8")
    for ex_id in ("exercise2", "exercise3"):
        shutil.copy(ROOT / "exercises" / f"{ex_id}.yaml", course / "exercises")
        shutil.copy(ROOT / "solutions" / f"{ex_id}.py", course / "solutions")
    ws = course / "workspace"
    ws.mkdir()
    shutil.copy(SCENARIOS / "exercise3" / "full_marks" / "submission.py", ws / "exercise3.py")
    out = tmp_path / "reports" / "all.json"

    proc = run_grade("all", "--course", str(course), "--devices", "cpu,meta", "--format", "json",
                     "--output", str(out), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # exercise2 is an unedited stub
    assert proc.stdout == ""  # the report went to the file only
    assert f"report written to {out}" in proc.stderr
    assert [p.name for p in out.parent.iterdir()] == ["all.json"]  # no temporary file left behind
    report = json.loads(out.read_text(encoding="utf-8"))
    assert list(report) == ["version", "score", "max_score", "exercises"]
    assert report["version"] == 1
    assert [e["exercise"] for e in report["exercises"]] == ["exercise2", "exercise3"]
    assert [e["score"] for e in report["exercises"]] == [0.0, 6.0]
    assert report["score"] == 6.0
    assert report["max_score"] == sum(e["max_score"] for e in report["exercises"]) == 16.0
    assert (ws / "exercise2.py").is_file()  # rendered on the way


FLOODING = '''
import os
import sys
import torch

FAKE = '{"version": 1, "exercise": "exercise3", "score": 6.0, "max_score": 6.0, "tasks": []}'
print(FAKE, flush=True)
sys.stderr.write("E" * 200_000)
os.write(1, b"X" * 300_000)


def cube_grad(x):
    print(FAKE, flush=True)
    sys.stderr.write("Traceback (most recent call last):\\n" * 1000)
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**3).sum().backward()
    return leaf.grad


def cube_second_grad(x):
    print(FAKE)
    return 6 * x  # the formula: 0 points, whatever the fake report says
'''


def test_json_stdout_is_one_document_whatever_the_submission_prints(tmp_path: Path) -> None:
    ws = tmp_path / "workspace"
    ws.mkdir()
    (ws / "exercise3.py").write_text(FLOODING, encoding="utf-8")
    proc = run_grade("exercise3", "--workspace", str(ws), "--devices", "cpu,meta", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    report = _json(proc.stdout)
    assert report["score"] == 3.0
    assert [t["status"] for t in report["tasks"]] == ["passed", "failed"]
    assert report["tasks"][1]["feedback"].startswith("[use autograd]")
    assert report["output"].startswith('{"version": 1, "exercise": "exercise3", "score": 6.0')
    assert "[output truncated:" in report["output"]
    assert len(report["output"]) < 4000 + 200
    assert "XXXX" not in proc.stderr and "EEEE" not in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_unavailable_device_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_grade("exercise3", "--workspace", str(tmp_path / "ws"), "--devices", "cuda")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith("error: device cuda is not available on this machine (available: cpu")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


# ---------------------------------------------------------------- the console script's first steps

def test_the_console_script_knows_every_command() -> None:
    from grader import launch
    from grader.cli import cli

    assert set(launch.COMMANDS) == set(cli.commands)


@pytest.mark.parametrize(("argv", "starts_sandbox"), [
    (["exercise3"], True), (["3", "--format", "json"], True), (["all"], True), (["watch", "ex3"], True),
    (["check"], True), (["--course", "c", "exercise3"], True),
    (["list"], False), (["hint", "exercise3"], False), (["render"], False), (["batch", "subs"], True),
    (["batch", "subs", "--executor", "dask", "--scheduler", "tcp://x:1"], False), (["batch", "--executor=dask"], False),
    (["exercise3", "--help"], False), (["--version"], False), ([], False),
])
def test_only_commands_that_grade_start_the_sandbox_early(argv: list[str], starts_sandbox: bool) -> None:
    from grader import launch

    assert launch.grades(argv) is starts_sandbox


def test_exit_codes_and_output_survive_the_fast_exit(tmp_path: Path) -> None:
    """`grade` leaves with os._exit after flushing: the report and the exit code must still arrive,
    also when stdout is a pipe that closes early."""
    proc = run_grade("schema", "exercise", cwd=ROOT)
    assert proc.returncode == 0 and json.loads(proc.stdout)["title"]
    proc = run_grade("nonexistent-exercise-xyz")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    closed = subprocess.run(f"{sys.executable} -m grader schema exercise | head -c 1", shell=True, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert closed.returncode == 0 and "Traceback" not in closed.stderr
