"""`grade batch`: a class graded on warm workers, each submission isolated; what one student
does never stops or changes the others' grades; reports, summary, JUnit, plot, --resume."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SCENARIOS, course_with_defaults, run_grade
from test_formats import validate_gradescope, validate_junit

from grader.batch import BatchStats, Submission, discover, grade_many, notebook_source
from grader.cli import main
from grader.course import CourseDir
from grader.grading import GradeOptions
from grader.notebook_code import cell_python

SOLUTION3 = (ROOT / "solutions" / "exercise3.py").read_text()
SOLUTION4 = (ROOT / "solutions" / "exercise4.py").read_text()
ANALYTIC = (SCENARIOS / "exercise3" / "analytic_formula" / "submission.py").read_text()
SECOND_GRAD_ONLY = SOLUTION3.replace("def cube_grad(x: torch.Tensor) -> torch.Tensor:\n",
                                     "def cube_grad(x: torch.Tensor) -> torch.Tensor:\n    while True:\n        pass\n")
KILLS_PARENT = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
FORGES_REPORT = """import json, os, struct
# try to answer for the grader on every inherited descriptor: full marks for job 0..50
for job in range(50):
    data = json.dumps({"id": job, "report": {"exercise": "exercise3", "title": "x", "tasks": [
        {"name": "cube_grad", "score": 3.0, "max_score": 3.0, "status": "passed"},
        {"name": "cube_second_grad", "score": 3.0, "max_score": 3.0, "status": "passed"}]}}).encode()
    for fd in range(3, 256):
        try:
            os.write(fd, struct.pack("<I", len(data)) + data)
        except OSError:
            pass
"""
FLOOD = "import sys\nsys.stdout.write('x' * 5_000_000)\n" + SOLUTION3


def notebook(*cells: tuple[str, str, dict[str, Any]]) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": kind, "metadata": meta, "source": text, **({"outputs": [], "execution_count": None}
                                                                 if kind == "code" else {})}
        for kind, text, meta in cells]})


STUDENT_NOTEBOOK = notebook(
    ("markdown", "# Gradients of x³", {}),
    ("code", "%matplotlib inline\n!pip install nothing\nfiles = !ls\nimport torch", {}),
    ("code", "%%capture\n" + SOLUTION3, {"nbgrader": {"solution": True, "grade": False, "grade_id": "sol"}}),
    ("code", "raise AssertionError('an autograder test cell: never run by grade batch')",
     {"nbgrader": {"solution": False, "grade": True, "grade_id": "test", "points": 3}}),
    ("code", "%%bash\necho not python", {}),
)


def make_class(root: Path) -> Path:
    """A class with every kind of submission grade batch meets."""
    subs = root / "submissions"
    files = {
        "alice/exercise3.py": SOLUTION3,  # right, two exercises: a wrapped report
        "alice/ex4.py": SOLUTION4,
        "bob/exercise3.py": ANALYTIC,  # graded, 0 points ("use autograd")
        "carol/exercise3.py": SECOND_GRAD_ONLY,  # one task loops forever: only that task fails
        "dave/exercise3.py": KILLS_PARENT,  # kills the worker: reported, the batch goes on
        "erin/homework.ipynb": STUDENT_NOTEBOOK,  # a notebook, recognised by what it defines
        "frank.py": FLOOD,  # one file per student; floods stdout
        "mallory/exercise3.py": FORGES_REPORT,  # cannot answer for the grader
        "zoe/exercise3.ipynb": "{not json",  # a broken notebook: a clear error, zero
        "zoe/helpers.py": "X = 1\n",  # not an exercise: left alone
        "README.txt": "not a student",
    }
    for rel, text in files.items():
        path = subs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return subs


def test_discover_finds_folders_files_and_notebooks(tmp_path: Path) -> None:
    course = CourseDir(ROOT)
    subs, notes, empty = discover(course, make_class(tmp_path))
    found = {(s.student, s.exercise, s.filename) for s in subs}
    assert found == {("alice", "exercise3", "exercise3.py"), ("alice", "exercise4", "ex4.py"),
                     ("bob", "exercise3", "exercise3.py"), ("carol", "exercise3", "exercise3.py"),
                     ("dave", "exercise3", "exercise3.py"), ("erin", "exercise3", "homework.ipynb"),
                     ("frank", "exercise3", "frank.py"), ("mallory", "exercise3", "exercise3.py"),
                     ("zoe", "exercise3", "exercise3.ipynb")}
    assert notes == ["README.txt: left out: not a student's folder, .py or .ipynb file; put each student's work in "
                     "SUBMISSIONS/<student>/",
                     "zoe/helpers.py: left out: cannot tell which exercise it is; name it after its exercise, e.g. "
                     "exercise1.py or exercise1.ipynb, or pass --exercise"]
    assert empty == {}
    only4, _, _ = discover(course, tmp_path / "submissions", exercise="4")
    assert [(s.student, s.exercise) for s in only4] == [("alice", "exercise4")]
    (tmp_path / "submissions" / "alice" / "old").mkdir()
    (tmp_path / "submissions" / "alice" / "old" / "exercise3.py").write_text("")
    (tmp_path / "submissions" / "notes.ipynb").write_text(notebook(("code", "print(1)", {})))
    (tmp_path / "submissions" / "yan").mkdir()  # nothing gradable: a row of its own, with the reason
    (tmp_path / "submissions" / "yan" / "scratch.py").write_text("x = 1\n")
    (tmp_path / "submissions" / "yan" / "notes.txt").write_text("todo")
    _, notes, empty = discover(course, tmp_path / "submissions", student=None)
    assert empty == {"yan": "nothing gradable in yan (cannot tell which exercise it is; name it after its exercise, "
                            "e.g. exercise1.py or exercise1.ipynb, or pass --exercise; not a .py or .ipynb file)"}
    assert "yan/notes.txt: left out: not a .py or .ipynb file" in notes
    assert any("alice/old/exercise3.py: left out: alice already has alice/exercise3.py" in n for n in notes)
    assert any(n.startswith("notes.ipynb: left out: cannot tell which exercise") for n in notes)


def test_notebook_source_keeps_the_students_code_only() -> None:
    """Cells as Jupyter runs them (IPython's own transformation), with what means nothing in
    grading neutralised: shell escapes are empty, magics not run, a %%capture cell's body kept."""
    code = notebook_source(STUDENT_NOTEBOOK)
    lines = code.splitlines()
    assert lines[:5] == ["pass  # not run by the grader: %matplotlib inline",
                         "pass  # not run by the grader: !pip install nothing", "files = []", "import torch", ""]
    assert lines[5:7] == ["pass  # not run by the grader: %%capture", SOLUTION3.splitlines()[0]]
    assert "def cube_second_grad" in code
    assert "autograder test cell" not in code and lines[-2:] == ["# %%bash", "# echo not python"]
    compile(code, "homework.ipynb", "exec")
    with pytest.raises(ValueError):
        notebook_source("[1, 2]")


@pytest.mark.parametrize(("cell", "python"), [
    ("x = !ls\nprint(x)", "x = []\nprint(x)\n"),
    ("y = %who_ls\n", "y = None\n"),
    ("%time y = f(2)\n", "y = f(2)\n"),
    ("f?\n", "pass  # not run by the grader: %pinfo f\n"),
    ("if True:\n    %load_ext foo\n    z = 1\n", "if True:\n    pass  # not run by the grader: %load_ext foo\n    z = 1\n"),
    ("\n%%capture\ndef f():\n    return 1\n", "\npass  # not run by the grader: %%capture\ndef f():\n    return 1\n"),
    ("%%writefile a.py\nprint(1)\n", "# %%writefile a.py\n# print(1)\n"),
    ("get_ipython().system(\n    'ls')\nq = 2\n", "pass  # not run by the grader: !ls\n\nq = 2\n"),  # line numbers kept
    ("def f(:\n", "def f(:\n"),  # not Python: left for the grader to report
])
def test_cells_become_python_as_jupyter_runs_them(cell: str, python: str) -> None:
    assert cell_python(cell) == python


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
def test_without_jobs_a_batch_runs_one_worker_more_than_its_cores(tmp_path: Path) -> None:
    """`-j` left out: as many workers as the cores `grade` may use, plus one (a worker waits for
    each fork and each message; the extra one's child runs meanwhile). Pinned to one core here."""
    subs = tmp_path / "subs"
    for name in ("ann", "bob", "cid", "dan"):
        (subs / name).mkdir(parents=True)
        (subs / name / "exercise3.py").write_text(SOLUTION3)
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})  # inherited by `grade`
    try:
        proc = run_grade("batch", str(subs), "--out", str(tmp_path / "grades"), "--devices", "cpu")
    finally:
        os.sched_setaffinity(0, allowed)
    assert proc.returncode == 0, proc.stderr
    assert "graded 4 student(s)" in proc.stderr and "on 2 worker(s)" in proc.stderr, proc.stderr


def test_grade_batch_grades_a_class_and_resumes(tmp_path: Path) -> None:
    subs = make_class(tmp_path)
    out = tmp_path / "grades"
    proc = run_grade("batch", str(subs), "--out", str(out), "-j", "2", "--devices", "cpu,meta", "--timeout", "2",
                     "--format", "json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"per child [1-9]\d* MiB", proc.stderr), proc.stderr[-500:]  # measured, in the sandbox too
    summary = json.loads(proc.stdout)
    assert summary["graded"] == 8 and summary["resumed"] == 0
    reports = {p.stem: json.loads(p.read_text()) for p in out.glob("[!.]*.json")}
    assert set(reports) == {"alice", "bob", "carol", "dave", "erin", "frank", "mallory", "zoe"}

    def tasks(name: str) -> dict[str, tuple[float, str]]:
        return {t["name"]: (t["score"], t["status"]) for t in reports[name]["tasks"]}

    alice = reports["alice"]  # several exercises: the contract's wrapper, in course order
    assert (alice["version"], alice["student"], alice["score"], alice["max_score"]) == (1, "alice", 12.0, 12.0), \
        json.dumps(alice, indent=1)[:3000]
    assert [e["exercise"] for e in alice["exercises"]] == ["exercise3", "exercise4"]
    assert reports["bob"]["student"] == "bob" and reports["bob"]["exercise"] == "exercise3"
    assert tasks("bob") == {"cube_grad": (0.0, "failed"), "cube_second_grad": (0.0, "failed")}
    assert "use autograd" in reports["bob"]["tasks"][0]["feedback"]
    assert tasks("carol") == {"cube_grad": (0.0, "timeout"), "cube_second_grad": (3.0, "passed")}
    assert tasks("dave") == {"cube_grad": (0.0, "error"), "cube_second_grad": (0.0, "error")}
    dave_feedback = reports["dave"]["tasks"][0]["feedback"]
    if "killing its parent process" in dave_feedback:
        # process isolation without a PID namespace (not root): the worker dies, is reported and replaced
        assert reports["dave"]["isolation"] == "process"
        assert "warning: dave/exercise3.py (exercise3): the grader's worker process died" in proc.stderr
    else:  # the sandbox, or process mode as root, gives the child its own PID namespace: the parent is out of reach
        assert dave_feedback == "cube_grad is not defined in your file"
    assert reports["erin"]["score"] == 6.0
    assert reports["frank"]["score"] == 6.0 and "[output truncated" in reports["frank"]["output"]
    assert reports["mallory"]["score"] == 0.0
    assert reports["zoe"]["score"] == 0.0 and "could not be read as a notebook" in reports["zoe"]["tasks"][0][
        "feedback"]

    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [r["student"] for r in rows] == sorted(reports)
    assert list(rows[0]) == ["student", "score", "max_score", "exercise3", "exercise3.cube_grad",
                             "exercise3.cube_second_grad", "exercise4", "exercise4.init_params",
                             "exercise4.dense_forward", "flags"]
    by = {r["student"]: r for r in rows}
    assert by["mallory"]["flags"] == "exercise3:raw fd writes@9" and by["alice"]["flags"] == ""
    assert (by["alice"]["score"], by["alice"]["exercise4"], by["alice"]["exercise4.dense_forward"]) == ("12", "6", "4")
    assert (by["carol"]["exercise3.cube_second_grad"], by["carol"]["exercise4"]) == ("3", "")
    junit = validate_junit((out / "junit.xml").read_text())
    assert len(list(junit)) == 9  # a suite per student and exercise
    assert (out / "scores.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    page = (out / "report.html").read_text()  # the class at a glance (in a browser: test_class_report.py)
    assert "<p class=\"note\">8 students, 2 exercises" in page and 'id="student-mallory"' in page

    # bob fixes his file: --resume grades him alone, keeps everyone else's report; where matplotlib
    # (an optional dependency) is missing, there is no scores.png and a note says why
    (subs / "bob" / "exercise3.py").write_text(SOLUTION3)
    alice_before = (out / "alice.json").read_bytes()
    hide = tmp_path / "no-matplotlib" / "matplotlib"
    hide.mkdir(parents=True)
    (hide / "__init__.py").write_text("raise ImportError('matplotlib is hidden by the test')\n")
    pythonpath = os.pathsep.join([str(hide.parent), os.environ.get("PYTHONPATH", "")])
    proc = run_grade("batch", str(subs), "--out", str(out), "-j", "2", "--devices", "cpu,meta", "--timeout", "2",
                     "--resume", "--format", "gradescope", timeout=300, env={"PYTHONPATH": pythonpath})
    assert proc.returncode == 0, proc.stderr
    assert "graded 1 student(s), kept 7 unchanged" in proc.stderr
    assert ("note: scores.png not written: matplotlib is not installed (pip install 'course-grader[plots]')"
            in proc.stderr.splitlines())
    assert not (out / "scores.png").exists() and (out / "summary.csv").is_file()
    assert json.loads((out / "bob.json").read_text())["score"] == 6.0
    assert (out / "alice.json").read_bytes() == alice_before
    gradescope = json.loads(proc.stdout)
    assert set(gradescope) == set(reports)
    for name, doc in gradescope.items():
        validate_gradescope(doc)
        assert json.loads((out / "gradescope" / f"{name}.json").read_text()) == doc
    assert gradescope["bob"]["score"] == 6.0 and gradescope["alice"]["score"] == 12.0


def test_grade_many_is_an_api(tmp_path: Path) -> None:
    """What the nbgrader path and scripts call: submissions in, (submission, report) out."""
    course = CourseDir(ROOT)
    subs = [Submission("ann", "exercise3", SOLUTION3, "exercise3.py"),
            Submission("ben", "exercise3", ANALYTIC, "exercise3.py"),
            Submission("cid", "exercise4", "def init_params(:\n", "exercise4.py")]
    stats = BatchStats()
    got = {sub.student: report for sub, report in grade_many(course, subs, GradeOptions(devices=("cpu",)), 2,
                                                             progress=False, stats=stats)}
    assert {name: (r.score, r.max_score, r.student) for name, r in got.items()} == {
        "ann": (6.0, 6.0, "ann"), "ben": (0.0, 6.0, "ben"), "cid": (0.0, 6.0, "cid")}
    assert "SyntaxError" in got["cid"].tasks[0].feedback
    assert stats.workers == 2 and stats.submissions == 3 and stats.worker_peak_rss_kb > 0


def test_a_lost_worker_is_replaced_and_its_submission_graded_again() -> None:
    """Whatever stops a worker (here: the test kills it mid-job), a fresh worker takes over and
    grades that submission once more, then the rest; a second loss of the same submission is
    replied as lost (batch.py decides whose fault that is)."""
    import os
    import signal

    from grader.pool import LocalPool, PoolStats, options_to_json

    opts = options_to_json(GradeOptions(devices=("cpu",), timeout=5))
    sources = [SOLUTION3 + "\nimport time\ntime.sleep(1.5)  # the worker is busy with it\n", ANALYTIC]
    jobs = [{"id": i, "course": str(ROOT), "exercise": "exercise3", "source": src, "filename": "exercise3.py",
             "options": opts} for i, src in enumerate(sources)]
    for kills, expected in ((1, "report"), (2, "died")):
        stats = PoolStats()
        with LocalPool(1, stats) as pool:
            killed: list[int] = []

            def kill(pool: LocalPool = pool, killed: list[int] = killed, kills: int = kills) -> None:
                worker = pool.workers[0]
                if worker.job is not None and worker.job["id"] == 0 and len(killed) < kills \
                        and worker.pid not in killed:
                    killed.append(worker.pid)
                    os.kill(worker.pid, signal.SIGKILL)

            replies = {job["id"]: reply for job, reply in pool.map(jobs, lambda job: 60.0, kill)}
        assert (replies[0]["report"]["score"] == 6.0) if expected == "report" else \
            (replies[0]["kind"] == "died" and replies[0]["retried"] and "report" not in replies[0])
        assert replies[1]["report"]["score"] == 0.0
        assert (stats.replaced, stats.retried) == (kills, 1)


@pytest.mark.parametrize("args, message", [
    ([], "missing SUBMISSIONS"),
    (["/nonexistent/class"], "/nonexistent/class: no such folder"),
    (["subs", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler goes with --executor dask"),
    (["subs", "--executor", "dask"], "--executor dask needs --scheduler"),
    (["--nbgrader", "nb"], "--nbgrader COURSE_DIR --assignment ID"),
    (["subs", "--workspace", "ws"], "No such option '--workspace'"),  # a batch reads SUBMISSIONS
    (["--nbgrader", "nb", "--assignment", "exercise3", "--student", "alice"], "--student picks a student of SUBMISSIONS"),
])
def test_batch_usage_errors_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                   args: list[str], message: str) -> None:
    make_class(tmp_path)
    (tmp_path / "subs").symlink_to(tmp_path / "submissions")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["batch", "--course", str(ROOT), *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_dask_executor_grades_the_same(tmp_path: Path) -> None:
    """The same batch on a dask.distributed cluster (loopback only): the same reports."""
    distributed = pytest.importorskip("distributed")
    subs = tmp_path / "submissions"
    for rel, text in {"ann/exercise3.py": SOLUTION3, "ben/exercise3.py": ANALYTIC,
                      "dave/exercise3.py": KILLS_PARENT}.items():
        (subs / rel).parent.mkdir(parents=True, exist_ok=True)
        (subs / rel).write_text(text)
    out = tmp_path / "grades"
    copies = set(Path(tempfile.gettempdir()).glob("course-grader-*"))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1",
                                  scheduler_port=_free_port(), dashboard_address=None) as cluster:
        proc = run_grade("batch", str(subs), "--out", str(out), "--executor", "dask", "--scheduler",
                         cluster.scheduler_address, "--devices", "cpu,meta", timeout=300)
        # the batch is over and the workers still run: none keeps the course (solutions included)
        assert set(Path(tempfile.gettempdir()).glob("course-grader-*")) <= copies
    assert proc.returncode == 0, proc.stderr
    scores = {p.stem: (json.loads(p.read_text())["score"], [t["status"] for t in json.loads(p.read_text())["tasks"]])
              for p in out.glob("[!.]*.json")}
    assert scores == {"ann": (6.0, ["passed", "passed"]), "ben": (0.0, ["failed", "failed"]),
                      "dave": (0.0, ["error", "error"])}
    assert (out / "summary.csv").is_file() and (out / "scores.png").is_file()
    validate_junit((out / "junit.xml").read_text())


def test_an_unreachable_dask_scheduler_stops_the_batch_at_once(tmp_path: Path) -> None:
    """Exit code 2 and one message naming the address, before any grading starts."""
    pytest.importorskip("distributed")
    subs = tmp_path / "submissions"
    (subs / "ann").mkdir(parents=True)
    (subs / "ann" / "exercise3.py").write_text(SOLUTION3)
    address = f"tcp://127.0.0.1:{_free_port()}"
    proc = run_grade("batch", str(subs), "--out", str(tmp_path / "grades"), "--executor", "dask", "--scheduler",
                     address, "--devices", "cpu", timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert f"cannot reach the dask scheduler at {address} within 5 s" in proc.stderr
    assert "Traceback" not in proc.stderr and not list((tmp_path / "grades").glob("*.json"))


def test_worker_messages_are_plain_json() -> None:
    """The channel between the batch and its workers carries JSON, never pickle."""
    from grader.pool import recv_message, send_message

    a, b = socket.socketpair()
    with a, b:
        send_message(a, {"id": 1, "report": {"score": 1.0}})
        assert recv_message(b) == {"id": 1, "report": {"score": 1.0}}
        pickled = b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01."
        a.sendall(struct.pack("<I", len(pickled)) + pickled)  # a pickle is not a message
        assert recv_message(b) is None


def test_a_grading_the_grader_could_not_finish_is_grader_error_exit_3_and_never_resumed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The grader's own failure (here: an exception inside the worker's grading for one student)
    is `grader_error` in every report, never the student's 0 kept by --resume; the batch exits 3
    naming the student; the others are graded as usual."""
    from grader import grading

    real = grading.grade_source

    def flaky(course: Any, ex_id: str, source: str, *args: Any, **kwargs: Any) -> Any:
        if "GRADER-BUG" in source:
            raise RuntimeError("a bug in the grader")
        return real(course, ex_id, source, *args, **kwargs)

    monkeypatch.setattr(grading, "grade_source", flaky)  # the workers are forked from this process
    subs = tmp_path / "subs"
    for rel, text in {"ann/exercise3.py": SOLUTION3, "bug/exercise3.py": SOLUTION3 + "# GRADER-BUG\n"}.items():
        (subs / rel).parent.mkdir(parents=True, exist_ok=True)
        (subs / rel).write_text(text)
    out = tmp_path / "grades"
    for _ in range(2):  # the second run (--resume) grades `bug` again and keeps `ann`
        with pytest.raises(SystemExit) as exit_info:
            main(["batch", str(subs), "--course", str(ROOT), "--out", str(out), "--devices", "cpu", "--resume",
                  "--format", "junit"])
        assert exit_info.value.code == 3
        captured = capsys.readouterr()
        assert "grader_error: the grader could not complete the grading of 1 student(s)" in captured.err
        assert captured.err.rstrip().endswith(": bug")
        bug = json.loads((out / "bug.json").read_text())
        assert {t["status"] for t in bug["tasks"]} == {"grader_error"} and bug["score"] == 0.0
        ann = json.loads((out / "ann.json").read_text())
        assert ann["score"] == 6.0 and bug["isolation"] == ann["isolation"]  # where it ran, not "process"
        state = json.loads((out / ".grade-batch.json").read_text())["students"]
        assert set(state) == {"ann"}
        errors = [e for e in ET.fromstring(captured.out).iter("error")]
        assert {e.get("type") for e in errors} == {"grader_error"} and len(errors) == 2
    assert "graded 1 student(s), kept 1 unchanged" in captured.err


def test_the_resume_state_is_saved_now_and_then_and_when_the_batch_is_interrupted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--resume's state names every student graded so far. It is rewritten at most every
    STATE_EVERY_S (after each student, a class of n wrote n(n+1)/2 names) and once more when
    the batch ends or is interrupted: after Ctrl-C, --resume grades none of them again."""
    from grader import batch, reports

    subs = tmp_path / "subs"
    for i in range(30):
        (subs / f"s{i:02d}").mkdir(parents=True)
        (subs / f"s{i:02d}" / "exercise3.py").write_text(SOLUTION3)
    course = CourseDir(ROOT)

    def graded_until_ctrl_c(course: CourseDir, todo: Any, *args: Any, **kwargs: Any) -> Any:
        for i, sub in enumerate(todo):
            if i == 20:
                raise KeyboardInterrupt
            yield sub, batch.failed_report(course, sub.exercise, sub.student, "error", "stand-in")

    saved: list[int] = []
    real_write = reports.write_atomic

    def counting(path: Path, data: Any) -> None:
        if path.name == batch.STATE_FILE:
            saved.append(len(json.loads(data)["students"]))
        real_write(path, data)

    monkeypatch.setattr(batch, "grade_many", graded_until_ctrl_c)
    monkeypatch.setattr(reports, "write_atomic", counting)
    monkeypatch.setattr(batch, "STATE_EVERY_S", 3600.0)
    out = tmp_path / "grades"
    with pytest.raises(KeyboardInterrupt):
        batch.run_batch(course, subs, out, GradeOptions(devices=("cpu",)), 1)
    assert saved == [20]  # once, as the batch stopped; not after each student
    state = json.loads((out / batch.STATE_FILE).read_text())["students"]
    assert sorted(state) == [f"s{i:02d}" for i in range(20)]
    assert all((out / f"s{i:02d}.json").exists() for i in range(20))


LATE_FIELDS = {"submitted_at", "deadline", "late", "late_by_s"}


def test_late_submissions_are_marked_in_every_report_and_never_lose_points(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A submission counts as handed in at its file's modification time. Past its exercise's
    deadline (course.yaml: `deadline`, or `deadlines` for one exercise) the JSON report, summary.csv
    and report.html say so and by how much, with the same points; --resume dates the kept
    reports again when a deadline moves, without grading; without a deadline nothing is said."""
    (tmp_path / "course").mkdir()
    course = course_with_defaults(tmp_path / "course")
    deadline = datetime(2025, 3, 1, 22, 59, tzinfo=timezone.utc)  # 23:59 in +01:00
    with (course / "course.yaml").open("a", encoding="utf-8") as f:
        f.write("deadline: 2025-03-01T23:59:00+01:00\ndeadlines:\n  exercise4: 2025-03-08T23:59:00+01:00\n")
    subs = tmp_path / "subs"
    handed_in = {"ann/exercise3.py": -3600.0,  # an hour early
                 "ben/exercise3.py": 7500.4,  # 2 h 5 min late (to the second, in the student's favour)
                 "ben/exercise4.py": 86400.0}  # a day after the course's deadline, before exercise4's own
    for rel, offset in handed_in.items():
        path = subs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SOLUTION4 if rel.endswith("4.py") else SOLUTION3)
        os.utime(path, (deadline.timestamp() + offset,) * 2)
    out = tmp_path / "grades"

    def batch(*extra: str) -> str:
        with pytest.raises(SystemExit) as exit_info:
            main(["batch", str(subs), "--course", str(course), "--out", str(out), "--devices", "cpu", "-j", "2",
                  "--resume", *extra])
        captured = capsys.readouterr()
        assert exit_info.value.code == 0, captured.err
        return captured.out + captured.err

    printed = batch()
    assert "late (handed in after the deadline; no points taken off): 1 student\n  ben: exercise3:2h05m" in printed
    ann = json.loads((out / "ann.json").read_text())
    assert (ann["score"], ann["submitted_at"], ann["deadline"], ann["late"], ann["late_by_s"]) == \
        (6.0, "2025-03-01T22:59:00+01:00", "2025-03-01T23:59:00+01:00", False, 0.0)
    ben3, ben4 = json.loads((out / "ben.json").read_text())["exercises"]
    assert (ben3["score"], ben3["submitted_at"], ben3["late"], ben3["late_by_s"]) == \
        (6.0, "2025-03-02T02:04:00+01:00", True, 7500.0)
    assert (ben4["score"], ben4["deadline"], ben4["late"], ben4["late_by_s"]) == \
        (6.0, "2025-03-08T23:59:00+01:00", False, 0.0)
    rows = {r["student"]: r for r in csv.DictReader((out / "summary.csv").open())}
    assert {name: (r["score"], r["late"]) for name, r in rows.items()} == {"ann": ("6", ""),
                                                                          "ben": ("12", "exercise3:2h05m")}
    page = (out / "report.html").read_text()
    assert re.search(r'data-card="late"><div class="v">1<', page)
    late = re.search(r'<details class="attention" data-status="late".*?</details>', page)
    assert late is not None and "Late submissions: 1" in late[0]
    assert '<tr data-student="ben">' in late[0] and "ann" not in late[0] and ">2h05m<" in late[0]
    assert re.search(r'id="student-ben" data-tags="[^"]*\blate\b', page)
    assert not re.search(r'id="student-ann" data-tags="[^"]*\blate\b', page)
    assert '<option value="late">' in page
    with pytest.raises(SystemExit) as exit_info:  # rebuilt from the JSON files: the same page
        main(["report", str(out), "--course", str(course)])
    assert exit_info.value.code == 0
    assert (out / "report.html").read_text() == page

    # the deadline moves: nothing is graded again, the kept reports are dated again
    text = (course / "course.yaml").read_text().replace("2025-03-01T23:59:00+01:00", "2025-03-02T03:00:00+01:00")
    (course / "course.yaml").write_text(text)
    assert "graded 0 student(s), kept 2 unchanged" in batch()
    assert json.loads((out / "ben.json").read_text())["exercises"][0]["late_by_s"] == 0.0
    assert csv.DictReader((out / "summary.csv").open()).fieldnames[-1] == "late"

    # no deadline: no lateness anywhere, the reports as they were before deadlines existed
    (course / "course.yaml").write_text(text[:text.index("deadline:")])
    assert "graded 0 student(s), kept 2 unchanged" in batch()
    assert not LATE_FIELDS & set(json.loads((out / "ann.json").read_text()))
    assert not any(LATE_FIELDS & set(e) for e in json.loads((out / "ben.json").read_text())["exercises"])
    assert csv.DictReader((out / "summary.csv").open()).fieldnames[-1] == "flags"
    page = (out / "report.html").read_text()
    assert "late" not in re.sub(r"<style>.*?</style>|<script>.*?</script>", "", page, flags=re.S)  # the page's code


def test_the_painter_draws_what_the_batch_would_and_stands_in_when_it_is_gone() -> None:
    """`grade batch` has scores.png drawn by a low-priority helper that loaded matplotlib while
    the class was graded: the image is byte for byte the one drawn in-process, and a helper
    that died (or never started) leaves the batch to draw it itself."""
    from grader import plots

    data = [{"exercise": "exercise3", "scores": [6.0, 3.0, 0.0, 6.0, 4.5], "top": 6.0},
            {"exercise": "exercise4", "scores": [], "top": 6.0}]
    here = plots.draw(data)
    assert here is not None and here.startswith(b"\x89PNG\r\n\x1a\n")
    painter = plots.Painter()
    assert painter._proc is not None
    ignored = 0
    end = time.monotonic() + 60
    while not ignored & (1 << (signal.SIGINT - 1)) and time.monotonic() < end:  # past Python's start
        time.sleep(0.05)
        status = Path(f"/proc/{painter._proc.pid}/status").read_text()
        ignored = int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("SigIgn:")), 16)
    painter._proc.send_signal(signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    time.sleep(0.3)
    assert painter._proc.poll() is None, "the helper stopped on Ctrl-C"
    assert painter.png(data) == here
    gone = plots.Painter()
    assert gone._proc is not None
    gone._proc.kill()
    gone._proc.wait()
    assert gone.png(data) == here


SHADOW = """
from pathlib import Path
Path({marker!r}).write_text("imported from the folder grade ran in")
raise ImportError("a student's matplotlib.py")
"""

PAINT_FROM_HERE = """
from grader import plots
data = [{"exercise": "exercise3", "scores": [6.0, 0.0], "top": 6.0}]
image = plots.Painter().png(data)
assert image is not None and image == plots.draw(data), "the helper's image differs"
print("ok")
"""


def test_a_students_module_in_the_folder_grade_runs_in_is_not_imported(tmp_path: Path) -> None:
    """`grade batch .` in a folder of flat `<student>.py` files: a student called matplotlib
    (or json, or rich) must not have their file imported by the grader or its helper processes
    (scores.png's painter, dask's warm graders), whose `python -m` puts that folder first on the path."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    marker = tmp_path / "pwned"
    for name in ("matplotlib", "json", "runpy", "grader"):
        (folder / f"{name}.py").write_text(SHADOW.format(marker=str(marker)))
    proc = subprocess.run([sys.executable, "-I", "-c", PAINT_FROM_HERE], cwd=folder, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
    assert not marker.exists()
    # `python -m grader` itself, run in that folder (which -m puts first on the import path; a
    # grader.py there would be what -m runs, which only the `grade` console script avoids)
    (folder / "grader.py").unlink()
    (folder / "rich.py").write_text(SHADOW.format(marker=str(marker)))
    listed = run_grade("list", "--course", str(ROOT), cwd=folder)
    assert listed.returncode == 0 and "exercise3" in listed.stdout, listed.stderr
    assert not marker.exists()
