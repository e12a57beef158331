"""`grade` in a terminal: help that shows what people run, versions, shell completion,
a file path where an exercise name goes, and Ctrl-C.

Help and completion run in-process (click's CliRunner) or as one quick process; grading
and Ctrl-C run the real `grade`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from conftest import ROOT, SCENARIOS, run_grade

from grader.cli import cli
from grader.course import CourseDir

FULL_MARKS = SCENARIOS / "exercise3" / "full_marks" / "submission.py"


def _help(*argv: str) -> str:
    result = CliRunner().invoke(cli, [*argv, "--help"], prog_name="grade")
    assert result.exit_code == 0, result.output
    return result.output


def test_help_shows_the_grading_options_and_names_commands_as_typed() -> None:
    top = _help()
    grading = top.split("Grading options (grade EXERCISE [OPTIONS]):")[1].split("Options:")[0]
    for option in ("--workspace", "--course", "--format", "--devices", "--student", "--timeout"):
        assert option in grading, option

    exercise = _help("exercise3")
    assert exercise.startswith("Usage: grade exercise3 [OPTIONS]\n")
    assert "grade exercise " not in exercise and "EXERCISE" not in exercise.splitlines()[0]

    batch = _help("batch")
    assert "--workspace" not in batch
    student = " ".join(batch.split("--student TEXT")[1].split("--timeout")[0].split())
    assert student == ("Grade only this student: the folder SUBMISSIONS/ID, or the file SUBMISSIONS/ID.py "
                       "or .ipynb (not with --nbgrader).")

    for name, command in cli.commands.items():
        for param in command.params:
            if param.name in ("course_path", "workspace"):
                assert isinstance(param, __import__("click").Option) and param.help, f"grade {name} {param.name}"


def test_version_names_grader_torch_and_python_without_importing_them() -> None:
    code = ("import sys; from grader.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            "assert 'torch' not in sys.modules and 'grader.schema' not in sys.modules, 'imported'\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("grade (course-grader) ")
    assert lines[1] == f"torch {torch.__version__}"
    assert lines[2].startswith(f"Python {sys.version.split()[0]} ")


def _complete(*words: str, cwd: Path = ROOT) -> list[str]:
    env = {**os.environ, "_GRADE_COMPLETE": "bash_complete", "COMP_WORDS": " ".join(["grade", *words]),
           "COMP_CWORD": str(len(words))}
    proc = subprocess.run([sys.executable, "-m", "grader"], capture_output=True, text=True, timeout=60,
                          cwd=cwd, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_shell_completion_offers_commands_exercise_ids_and_files() -> None:
    ids = CourseDir.open(ROOT).exercise_ids
    assert _complete("exercise1") == [f"plain,{i}" for i in ids if i.startswith("exercise1")]
    assert _complete("wa") == ["plain,watch"]
    assert _complete("hint", "exercise") == [f"plain,{i}" for i in ids]
    assert _complete("watch", "exercise3") == ["plain,exercise3"]
    assert _complete("workspace/ex") == ["file,workspace/ex"]  # the shell completes paths
    script = subprocess.run([sys.executable, "-m", "grader"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "_GRADE_COMPLETE": "bash_source"}).stdout
    assert "complete -o nosort -F _grade_completion grade" in script


def test_a_file_path_grades_that_file(tmp_path: Path) -> None:
    mine = tmp_path / "exercise3.py"
    shutil.copy(FULL_MARKS, mine)
    proc = run_grade(str(mine), "--workspace", str(tmp_path / "ws"), "--devices", "cpu", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["exercise"], report["score"], report["max_score"]) == ("exercise3", 6.0, 6.0)
    assert not (tmp_path / "ws").exists()  # no stub rendered: the file named was graded

    missing = run_grade(str(tmp_path / "exercise4.py"))
    assert missing.returncode == 2
    assert missing.stderr.strip() == (f"error: {tmp_path / 'exercise4.py'}: no such file; name an exercise "
                                      "(exercise3, 3 or ex3) or a .py file to grade")
    stray = tmp_path / "notes.py"
    stray.write_text("x = 1\n")
    unknown = run_grade(str(stray))
    assert unknown.returncode == 2 and unknown.stderr.startswith("error: no exercise 'notes' in course.yaml")


def _sigint_as_in_a_terminal() -> None:
    """In the child before exec: Ctrl-C's default action, as a shell gives a foreground command.
    An ignored SIGINT is inherited, and Python then installs no KeyboardInterrupt handler; the
    test worker may have it ignored by what ran before in it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.timeout(180)
def test_ctrl_c_exits_130(tmp_path: Path) -> None:
    """SIGINT to a real `grade watch` once it has graded and is waiting for a save."""
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copy(FULL_MARKS, ws / "exercise3.py")
    proc = subprocess.Popen([sys.executable, "-m", "grader", "watch", "exercise3", "--workspace", str(ws),
                             "--devices", "cpu"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
                            preexec_fn=_sigint_as_in_a_terminal)
    try:
        assert proc.stdout is not None
        seen = ""
        while "watching" not in seen:
            line = proc.stdout.readline()
            assert line, f"grade watch ended early: {proc.wait()} {proc.stderr.read() if proc.stderr else ''}"
            seen += line
        time.sleep(0.5)  # in the file watcher's wait
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "stopped watching" in out and "Traceback" not in err


def test_a_missing_optional_dependency_is_named_with_its_extra(tmp_path: Path) -> None:
    """nbformat and nbgrader are the `[nbgrader]` extra: without them, one message says what to install."""
    for module in ("nbformat", "nbgrader"):
        (tmp_path / "hide" / module).mkdir(parents=True)
        (tmp_path / "hide" / module / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    pythonpath = os.pathsep.join([str(tmp_path / "hide"), os.environ.get("PYTHONPATH", "")])
    proc = run_grade("render", "--nbgrader", str(tmp_path / "nb"), env={"PYTHONPATH": pythonpath})
    assert proc.returncode == 2
    assert proc.stderr == ("error: grade render --nbgrader needs nbformat and nbgrader, not installed here: "
                           "pip install 'course-grader[nbgrader]'\n")
    assert not (tmp_path / "nb").exists()
