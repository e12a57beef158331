"""nbgrader: rendered notebooks, in-kernel test cells, the plain nbgrader path and the trusted batch path.

The end-to-end tests run the real nbgrader commands (generate_assignment, autograde,
generate_feedback, export) in a temporary course folder and read the gradebook through
nbgrader's API. They are marked slow; CI runs them.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from grader.course import CourseDir
from grader.grading import GradeOptions, grade_source, reference_submission
from grader.incell import decode_payload, run_task
from grader.inert import for_html
from grader.nbgrader_batch import _handed_in, _timestamp, batch_nbgrader
from grader.notebook_check import check_notebook, check_notebooks, run_cells, student_version
from grader.notebook_render import render_nbgrader, render_notebook
from tests.conftest import ROOT, course_with_defaults, run_grade, without_times

COURSE_ID = "pytorch-fundamentals"
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"
GOOD = {
    "solution_cube_grad": "    leaf = x.detach().clone().requires_grad_(True)\n"
                          "    (leaf ** 3).sum().backward()\n"
                          "    return leaf.grad",
    "solution_cube_second_grad": "    leaf = x.detach().clone().requires_grad_(True)\n"
                                 "    (g,) = torch.autograd.grad((leaf ** 3).sum(), leaf, create_graph=True)\n"
                                 "    return torch.autograd.grad(g.sum(), leaf)[0]",
}
ANALYTIC = "    return 3 * x ** 2"
HOSTILE_CELL = ("import torch\nimport grader.incell\n"
                "torch.allclose = lambda *a, **k: True\n"
                "grader.incell.check = lambda *a, **k: print('all checks passed')\n")


@pytest.fixture(scope="module")
def course() -> CourseDir:
    return CourseDir.open(ROOT)


@pytest.fixture(scope="module")
def small_course(tmp_path_factory: pytest.TempPathFactory) -> CourseDir:
    """The course with exercises 2 and 3 only: every command renders all of a course's exercises."""
    root = tmp_path_factory.mktemp("small") / "course"
    for sub in ("exercises", "solutions"):
        (root / sub).mkdir(parents=True)
    data = yaml.safe_load((ROOT / "course.yaml").read_text(encoding="utf-8"))
    data["exercises"] = ["exercise2", "exercise3"]
    (root / "course.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    for ex in data["exercises"]:
        shutil.copy(ROOT / "exercises" / f"{ex}.yaml", root / "exercises")
        shutil.copy(ROOT / "solutions" / f"{ex}.py", root / "solutions")
    return CourseDir.open(root)


def _check_payloads(nb: nbformat.NotebookNode) -> dict[str, dict[str, Any]]:
    """task -> {'visible': payload or None, 'hidden': payload}, read back from the test cells."""
    found: dict[str, dict[str, Any]] = {}
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if not gid.startswith("test_"):
            continue
        calls = re.findall(r'check\("(\w+)", "([^"]*)"(, hidden=True)?\)', cell.source)
        found[gid.removeprefix("test_")] = {
            "visible": next((decode_payload(d) for _, d, h in calls if not h), None),
            "hidden": next(decode_payload(d) for _, d, h in calls if h),
        }
    return found


# ---------------------------------------------------------------- rendering (fast)

def test_rendered_notebook_has_nbgraders_cells_and_releases_without_answers(small_course: CourseDir,
                                                                            tmp_path: Path) -> None:
    written = render_nbgrader(small_course, tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == \
        ["source/exercise2/exercise2.ipynb", "source/exercise3/exercise3.ipynb", "nbgrader_config.py"]
    nb = nbformat.read(tmp_path / "source/exercise3/exercise3.ipynb", as_version=4)
    meta = {c.metadata["nbgrader"]["grade_id"]: dict(c.metadata["nbgrader"]) for c in nb.cells}
    assert list(meta) == ["intro", "setup", "about_cube_grad", "solution_cube_grad", "test_cube_grad",
                          "about_cube_second_grad", "solution_cube_second_grad", "test_cube_second_grad"]
    assert meta["solution_cube_grad"] == {"grade": False, "grade_id": "solution_cube_grad", "locked": False,
                                          "schema_version": 3, "solution": True, "task": False}
    assert meta["test_cube_grad"] == {"grade": True, "grade_id": "test_cube_grad", "locked": True, "points": 3.0,
                                      "schema_version": 3, "solution": False, "task": False}
    solution = nb.cells[3].source
    assert "### BEGIN SOLUTION\n    leaf = x.detach().clone().requires_grad_(True)" in solution
    test_cell = nb.cells[4].source
    assert test_cell.index('check("cube_grad"') < test_cell.index("### BEGIN HIDDEN TESTS") \
        < test_cell.index("hidden=True") < test_cell.index("### END HIDDEN TESTS")

    released = student_version(nb)  # nbgrader's own ClearSolutions and ClearHiddenTests
    text = "\n".join(c.source for c in released.cells)
    assert "requires_grad_(True)" not in text and "hidden=True" not in text
    assert released.cells[3].source.endswith(STUB)

    # the instructor's config is theirs: a second render keeps it
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    assert render_nbgrader(small_course, tmp_path)[-1].suffix == ".ipynb"
    assert (tmp_path / "nbgrader_config.py").read_text() == "c = get_config()\n"


def test_check_notebooks_accepts_the_course_and_catches_a_broken_notebook(small_course: CourseDir,
                                                                         tmp_path: Path) -> None:
    """(`grade check` in CI runs check_notebooks on the whole course.)"""
    course = small_course
    assert check_notebooks(course) == []

    nb = render_notebook(course, "exercise3")
    wrong = copy.deepcopy(nb)
    wrong.cells[3].source = wrong.cells[3].source.replace("(leaf**3).sum().backward()", "(leaf**2).sum().backward()")
    path = tmp_path / "exercise3.ipynb"
    nbformat.write(wrong, path)
    problems = check_notebook(course, "exercise3", path)
    assert len(problems) == 1 and "test_cube_grad fails on the reference solution: [values]" in problems[0]

    del nb.cells[4].metadata["nbgrader"]["points"]
    nbformat.write(nb, path)
    assert check_notebook(course, "exercise3", path) == \
        ["exercise3.ipynb: nbgrader rejects the notebook: nbgrader cell 'test_cube_grad' does not have points"]


SAME_FEEDBACK = {
    "exercise3": [
        ("analytic formula", "def cube_grad(x):\n    return 3 * x ** 2\n"
                             "def cube_second_grad(x):\n    return 6 * x\n"),
        ("wrong dtype and shape", "import torch\n"
                                  "def cube_grad(x):\n    leaf = x.detach().double().requires_grad_()\n"
                                  "    (leaf ** 3).sum().backward()\n    return leaf.grad\n"
                                  "def cube_second_grad(x):\n    leaf = x.detach().clone().requires_grad_()\n"
                                  "    (g,) = torch.autograd.grad((leaf ** 3).sum(), leaf, create_graph=True)\n"
                                  "    return torch.autograd.grad(g.sum(), leaf)[0].flatten()\n"),
        ("accumulating .grad", "import torch\nLEAF = {}\n"
                               "def cube_grad(x):\n    leaf = LEAF.setdefault(x.shape, x.detach().clone().requires_grad_())\n"
                               "    (leaf ** 3).sum().backward()\n    return leaf.grad\n"
                               "def cube_second_grad(x):\n    return x.cpu()\n"),
    ],
    "exercise4": [
        ("nn.functional.linear, wrong seed order", "import torch\nimport torch.nn.functional as F\n"
         "def init_params(in_features=3, hidden=4, out_features=2, seed=42):\n    torch.manual_seed(seed)\n"
         "    b1 = torch.randn(hidden)\n    w1 = torch.randn(in_features, hidden)\n"
         "    return w1, b1, torch.randn(hidden, out_features), torch.randn(out_features)\n"
         "def dense_forward(x, w1, b1, w2, b2):\n    return F.linear(torch.relu(F.linear(x, w1.T, b1)), w2.T, b2)\n"),
        ("detached output", "import torch\n"
         "def init_params(in_features=3, hidden=4, out_features=2, seed=42):\n    return 1\n"
         "def dense_forward(x, w1, b1, w2, b2):\n    return (torch.relu(x @ w1 + b1) @ w2 + b2).detach()\n"),
    ],
    "exercise2": [
        ("quiz: wrong, a list, unanswered, a string shape", "q1 = (1, 2)\nq2 = [256, 256, 3]\nq3 = ...\nq4 = '(6, 5)'\n"),
    ],
}


@pytest.mark.parametrize("ex_id", list(SAME_FEEDBACK))
def test_test_cells_give_the_same_feedback_as_grade(course: CourseDir, ex_id: str) -> None:
    """The hidden check (every case) of each test cell, run on a student's code in this process as
    a kernel would, reaches grade's verdict with grade's feedback, word for word."""
    payloads = _check_payloads(render_notebook(course, ex_id))
    for what, source in SAME_FEEDBACK[ex_id]:
        report = grade_source(course, ex_id, source, f"{ex_id}.py", GradeOptions())
        namespace: dict[str, Any] = {}
        exec(compile(source, f"{ex_id}.py", "exec"), namespace)
        for task in report.tasks:
            status, feedback, devices, _ = run_task(payloads[task.name]["hidden"], namespace)
            assert (status, feedback) == (task.status, task.feedback), f"{what}: {task.name}"
            assert devices == list(task.devices), f"{what}: {task.name}"
    assert any(t.status != "passed" for t in report.tasks)


def test_visible_quiz_checks_say_only_whether_the_answer_has_the_right_form(course: CourseDir) -> None:
    payloads = _check_payloads(render_notebook(course, "exercise2"))
    namespace = {"q1": (9, 9), "q2": 2.5, "q3": ...}
    assert run_task(payloads["q1"]["visible"], namespace)[:2] == ("passed", "")
    assert run_task(payloads["q2"]["visible"], namespace)[1].startswith("[answer] expected a tuple")
    assert run_task(payloads["q3"]["visible"], namespace)[1].startswith("[not implemented]")
    assert run_task(payloads["q4"]["visible"], namespace)[1] == \
        "[not implemented] q4 is not defined yet: run the cell with your answer first"
    assert run_task(payloads["q1"]["hidden"], namespace)[1].startswith("[answer] (9, 9) is not right")


def test_student_variant_notebook_asks_that_students_questions(course: CourseDir) -> None:
    common = render_notebook(course, "exercise2")
    alice = render_notebook(course, "exercise2", student="alice")
    assert "*Variants:*" in common.cells[0].source and "q6" in common.cells[0].source
    assert "variant of student* `alice`" in alice.cells[0].source

    def question(nb: nbformat.NotebookNode, task: str) -> str:
        return next(c.source for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == f"about_{task}")

    assert question(common, "q1") == question(alice, "q1")
    assert question(common, "q6") != question(alice, "q6")
    # alice's notebook holds alice's answers (those `grade --student alice` expects) and passes its tests
    key = reference_submission(course, "exercise2", GradeOptions(student="alice"))
    q6 = next(c.source for c in alice.cells if c.metadata["nbgrader"]["grade_id"] == "solution_q6")
    assert re.search(r"^q6 = .*$", q6, re.M).group(0) in key.splitlines()  # type: ignore[union-attr]
    assert all(error == "" for error in run_cells(alice).values())
    assert _check_payloads(alice)["q6"]["hidden"]["student"] == "alice"


# ---------------------------------------------------------------- end to end with nbgrader (slow)

def nbgrader(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory, small_course: CourseDir) -> Path:
    """A course folder after `grade render --nbgrader` and `nbgrader generate_assignment exercise3`."""
    folder = tmp_path_factory.mktemp("nbgrader") / "course"
    proc = run_grade("render", "--nbgrader", str(folder), "--course", str(small_course.root))
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {folder / 'source/exercise3/exercise3.ipynb'}" in proc.stdout.splitlines()
    nbgrader("generate_assignment", "exercise3", cwd=folder)
    assert (folder / "release/exercise3/exercise3.ipynb").is_file()
    return folder


def test_rendering_an_unchanged_course_again_writes_the_same_bytes(small_course: CourseDir, released: Path,
                                                                   tmp_path: Path) -> None:
    """So that `nbgrader generate_assignment` and version control see no change."""
    again = tmp_path / "again"
    proc = run_grade("render", "--nbgrader", str(again), "--course", str(small_course.root))
    assert proc.returncode == 0, proc.stderr
    for ex_id in small_course.exercise_ids:
        path = Path("source") / ex_id / f"{ex_id}.ipynb"
        assert (again / path).read_bytes() == (released / path).read_bytes(), ex_id


def _submit(folder: Path, student: str, bodies: dict[str, str], *, edit: Any = None, raw: str | None = None) -> None:
    """Put a student's copy of the released notebook in submitted/<student>/exercise3/."""
    target = folder / "submitted" / student / "exercise3"
    target.mkdir(parents=True)
    (target / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    if raw is not None:
        (target / "exercise3.ipynb").write_text(raw)
        return
    nb = nbformat.read(folder / "release/exercise3/exercise3.ipynb", as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if gid in bodies:
            assert STUB in cell.source
            cell.source = cell.source.replace(STUB, bodies[gid])
    if edit is not None:
        edit(nb.cells)
    nbformat.write(nb, target / "exercise3.ipynb")


def test_a_notebook_is_handed_in_when_nbgrader_collected_it(tmp_path: Path) -> None:
    """The trusted batch dates a submission by the timestamp.txt `nbgrader collect` wrote (UTC),
    and by the notebook's file time where there is none or it cannot be read."""
    notebook = tmp_path / "exercise3.ipynb"
    notebook.write_text("{}")
    os.utime(notebook, (1_700_000_000, 1_700_000_000))
    assert _handed_in(_timestamp(tmp_path), notebook) == datetime.fromtimestamp(1_700_000_000, timezone.utc)
    (tmp_path / "timestamp.txt").write_text("not a time")
    assert _handed_in(_timestamp(tmp_path), notebook) == datetime.fromtimestamp(1_700_000_000, timezone.utc)
    (tmp_path / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")  # as nbgrader collect writes it
    assert _handed_in(_timestamp(tmp_path), notebook) == datetime(2026, 11, 20, 10, tzinfo=timezone.utc)


def _as_read(comment: str | None) -> str | None:
    """A gradebook comment as its feedback page shows it: Markdown and HTML escapes read."""
    import html

    return None if comment is None else html.unescape(re.sub(r"\\(.)", r"\1", comment))


def _gradebook(folder: Path, raw: bool = False) -> dict[str, dict[str, Any]]:
    """student -> {grade cell: score, solution cell: comment as shown (`raw`: as stored)}, through
    nbgrader's API."""
    from nbgrader.api import Gradebook

    out: dict[str, dict[str, Any]] = {}
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}", COURSE_ID) as gb:
        for submission in gb.assignment_submissions("exercise3"):
            (notebook,) = submission.notebooks
            row = {g.name: g.score for g in notebook.grades}
            row.update({c.name: c.comment if raw else _as_read(c.comment) for c in notebook.comments})
            out[submission.student.id] = row
    return out


def _cell(nb_path: Path, grade_id: str) -> nbformat.NotebookNode:
    nb = nbformat.read(nb_path, as_version=4)
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.mark.slow
def test_plain_nbgrader_trusts_the_kernel_and_the_trusted_batch_does_not(course: CourseDir, released: Path,
                                                                          tmp_path: Path) -> None:
    folder = tmp_path / "course"
    shutil.copytree(released, folder)
    _submit(folder, "alice", GOOD)
    _submit(folder, "bob", {**GOOD, "solution_cube_grad": ANALYTIC})
    # mallory: the same wrong cube_grad, plus a cell that patches torch and the in-kernel checks
    _submit(folder, "mallory", {**GOOD, "solution_cube_grad": ANALYTIC},
            edit=lambda cells: cells.insert(2, nbformat.v4.new_code_cell(HOSTILE_CELL)))
    autograde_feedback = grade_source(course, "exercise3", "def cube_grad(x):\n    return 3 * x ** 2\n",
                                      "exercise3.py").tasks[0].feedback
    assert autograde_feedback.startswith("[use autograd] on cpu, case 1")

    # the plain nbgrader path: tests run in the student's kernel
    nbgrader("autograde", "exercise3", cwd=folder)
    plain = _gradebook(folder)
    assert {s: (g["test_cube_grad"], g["test_cube_second_grad"]) for s, g in plain.items()} == \
        {"alice": (3.0, 3.0), "bob": (0.0, 3.0), "mallory": (3.0, 3.0)}  # mallory fooled nbgrader
    error = _cell(folder / "autograded/bob/exercise3/exercise3.ipynb", "test_cube_grad").outputs[-1]
    assert (error.output_type, error.ename, error.evalue) == ("error", "CheckFailed", autograde_feedback)

    # the trusted path: only the solution cells, graded in isolated children; with a deadline an hour
    # before nbgrader's timestamp.txt, each report says late by an hour
    (tmp_path / "dated").mkdir()
    dated = CourseDir.open(course_with_defaults(tmp_path / "dated"))
    with dated.course_file.open("a", encoding="utf-8") as f:
        f.write("deadline: 2026-11-20T09:00:00Z\n")
    assert batch_nbgrader(dated, folder, "exercise3", GradeOptions(), 2, tmp_path / "reports") == 0
    trusted = _gradebook(folder, raw=True)
    assert {s: (g["test_cube_grad"], g["test_cube_second_grad"]) for s, g in trusted.items()} == \
        {"alice": (3.0, 3.0), "bob": (0.0, 3.0), "mallory": (0.0, 3.0)}
    # the comment is Markdown that nbgrader renders: the feedback escaped, so that it shows as it is
    assert trusted["mallory"]["solution_cube_grad"] == trusted["bob"]["solution_cube_grad"] == \
        for_html(autograde_feedback)
    assert trusted["alice"]["solution_cube_grad"] is None
    report = json.loads((tmp_path / "reports/mallory.json").read_text())
    assert (report["student"], report["score"], report["max_score"]) == ("mallory", 3.0, 6.0)
    assert (report["submitted_at"], report["late"], report["late_by_s"]) == ("2026-11-20T10:00:00+00:00", True, 3600)

    # feedback and export read what the trusted path wrote
    nbgrader("generate_feedback", "exercise3", cwd=folder)
    html = (folder / "feedback/mallory/exercise3/exercise3.html").read_text()
    assert "[use autograd] on cpu, case 1" in html and "all checks passed" not in html
    assert re.search(r"Score: 3\.0 / 6\.0", html)
    nbgrader("export", cwd=folder)
    with open(folder / "grades.csv", newline="") as f:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    assert scores == {"alice": 6.0, "bob": 3.0, "mallory": 3.0}


def _move_second_solution_up(cells: list[Any]) -> None:
    i = next(k for k, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade_id") ==
             "solution_cube_second_grad")
    cells.insert(3, cells.pop(i))


def _set_meta(grade_id: str, **changes: Any) -> Any:
    def edit(cells: list[Any]) -> None:
        next(c for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id).metadata["nbgrader"] \
            .update(changes)
    return edit


def _set_source(grade_id: str, source: str) -> Any:
    def edit(cells: list[Any]) -> None:
        next(c for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id).source = source
    return edit


def _prepend(grade_id: str, text: str) -> Any:
    def edit(cells: list[Any]) -> None:
        cell = next(c for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
        cell.source = text + cell.source
    return edit


def _drop(grade_id: str) -> Any:
    def edit(cells: list[Any]) -> None:
        cells[:] = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
    return edit


@pytest.mark.slow
def test_broken_notebooks_score_zero_with_a_reason_and_the_class_is_graded(course: CourseDir, released: Path,
                                                                           tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "course"
    shutil.copytree(released, folder)
    stray = GOOD["solution_cube_grad"] + "\n\n%time 1 + 1\nprint(cube_grad(torch.ones(2)).no_such_attribute)"
    cases = {
        # student: (bodies, edit, raw file, scores of (cube_grad, cube_second_grad), reason for cube_grad)
        "ok": (GOOD, None, None, (3.0, 3.0), None),
        "garbled": (GOOD, None, '{"cells": [', (0.0, 0.0), "not a readable notebook"),
        "deleted": (GOOD, _drop("solution_cube_grad"), None, (0.0, 3.0), "is missing: it was deleted"),
        "no_test": (GOOD, _drop("test_cube_second_grad"), None, (3.0, 0.0), None),
        "moved": (GOOD, _move_second_solution_up, None, (3.0, 0.0), None),
        "edited": (GOOD, _set_meta("solution_cube_grad", solution=False), None, (0.0, 3.0), "metadata"),
        "points": (GOOD, _set_meta("test_cube_grad", points=30), None, (0.0, 3.0), "metadata of test_cube_grad"),
        "emptied": (GOOD, _set_source("solution_cube_grad", "# I give up\n"), None, (0.0, 3.0), "is empty"),
        "stray_call": ({**GOOD, "solution_cube_grad": stray},
                       _prepend("solution_cube_grad", "from __future__ import annotations\n"), None, (3.0, 3.0), None),
        "syntax": ({**GOOD, "solution_cube_grad": "    return (x"}, None, None, (0.0, 3.0), "not valid Python"),
        # cells as Jupyter runs them: a shell escape's value and a %%capture cell's functions
        "magics": (GOOD, lambda cells: (_prepend("solution_cube_grad", "listing = !ls\n%matplotlib inline\n")(cells),
                                        _prepend("solution_cube_second_grad", "%%capture\n")(cells)),
                   None, (3.0, 3.0), None),
        "name_error": (GOOD, _prepend("solution_cube_second_grad", "undefined_helper()\n"), None, (3.0, 0.0), None),
    }
    for student, (bodies, edit, raw, _, _) in cases.items():
        _submit(folder, student, bodies, edit=edit, raw=raw)
    assert batch_nbgrader(course, folder, "exercise3", GradeOptions(), 1, None) == 1  # garbled was not graded
    book = _gradebook(folder)
    for student, (_, _, _, scores, reason) in cases.items():
        assert (book[student]["test_cube_grad"], book[student]["test_cube_second_grad"]) == scores, student
        if reason is not None:
            assert reason in book[student]["solution_cube_grad"], student
    assert book["moved"]["solution_cube_second_grad"].startswith("[notebook] the cells of cube_second_grad were moved")
    assert book["no_test"]["solution_cube_second_grad"].startswith("[notebook] the test cell of cube_second_grad")
    assert book["name_error"]["solution_cube_second_grad"] == (
        "[notebook] your solution cell of cube_second_grad raised NameError: name 'undefined_helper' is not defined "
        "(line 1 of the cell), so cube_second_grad was never defined; run the cell in Jupyter to see the error")
    out = capsys.readouterr().out
    assert "garbled" in out and "not graded" in out
    feedback = folder / "autograded/syntax/exercise3/exercise3.ipynb"
    assert _cell(feedback, "test_cube_grad").outputs[0].evalue.startswith("[notebook] your solution cell of cube_grad")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_class_under_fire_through_the_gradebook(course: CourseDir, released: Path, tmp_path: Path) -> None:
    """Issue 11: honest notebooks interleaved with every hostile submission for exercise 3 (its code in
    the solution cells), graded into nbgrader's gradebook: one commit per student, so every student has
    their grades, and the honest ones are what they are when graded alone."""
    hostile = sorted(p for p in (Path(__file__).parent / "hostile").glob("ex3_*.py")
                     if "exercise: exercise3" in p.read_text())
    honest = {"h_alice": GOOD, "q_bob": {**GOOD, "solution_cube_grad": ANALYTIC}}
    alone_dir, class_dir = tmp_path / "alone", tmp_path / "class"
    for folder in (alone_dir, class_dir):
        shutil.copytree(released, folder)
        for name, bodies in honest.items():
            _submit(folder, name, bodies)
    def into_solution_cells(code: str) -> Any:
        def edit(cells: list[Any]) -> None:
            for cell in cells:
                if cell.metadata.get("nbgrader", {}).get("grade_id", "").startswith("solution_"):
                    cell.source = code  # the whole submission, in each solution cell (the cells graded)
        return edit

    for path in hostile:
        _submit(class_dir, path.stem, {}, edit=into_solution_cells(path.read_text()))
    opts = GradeOptions(devices=("cpu", "meta"), timeout=2)
    assert batch_nbgrader(course, alone_dir, "exercise3", opts, 1, tmp_path / "alone-reports") == 0
    batch_nbgrader(course, class_dir, "exercise3", opts, 2, tmp_path / "class-reports")
    alone, graded = _gradebook(alone_dir), _gradebook(class_dir)
    assert set(graded) == set(honest) | {p.stem for p in hostile}
    assert (graded["h_alice"]["test_cube_grad"], graded["q_bob"]["test_cube_grad"]) == (3.0, 0.0)
    assert graded["ex3_returns_zeros"]["test_cube_grad"] == 0.0  # the last cell's functions were graded
    for name in honest:
        assert graded[name] == alone[name]
        report = json.loads((tmp_path / "class-reports" / f"{name}.json").read_text())
        assert without_times(report) == \
            without_times(json.loads((tmp_path / "alone-reports" / f"{name}.json").read_text()))
    comments = [c for row in _gradebook(class_dir, raw=True).values() for k, c in row.items()
                if k.startswith("solution_") and c]
    assert comments and not any("<" in c or "\x1b" in c for c in comments)
