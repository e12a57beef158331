"""Golden scenario tests: each folder under tests/scenarios/<exercise>/<name>/ holds a
submission.py and the expected.json report; the real CLI (`grader.cli.main`, exit code,
stdout and stderr) grades it in this process, on one warm launcher for the whole file: a
subprocess per scenario would import torch twice for each (test_cli.py runs `grade` as a
user does).

An optional args.txt in a folder holds extra command-line arguments (shell-quoted,
`#` comments allowed), e.g. `--timeout 1` so that a hanging submission stays fast.

Scenarios run in process isolation: the report is the same under bubblewrap (the
sandbox's own tests cover it), and each run is faster without it.

Regenerate after an intended change with UPDATE_GOLDEN=1 pytest tests/test_scenarios.py
and review the diff.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SCENARIOS, assert_golden

from grader.boundary import sandbox
from grader.cli import main

CASES = sorted(p for p in SCENARIOS.glob("exercise*/*") if (p / "submission.py").is_file())


def extra_args(folder: Path) -> list[str]:
    args_file = folder / "args.txt"
    if not args_file.is_file():
        return []
    return shlex.split(args_file.read_text(encoding="utf-8"), comments=True)


def test_every_exercise_has_the_standard_scenarios() -> None:
    standard = {"full_marks", "partly_right", "syntax_error", "raises", "infinite_loop", "wrong_shape",
                "wrong_dtype", "wrong_device"}
    for ex_id in ("exercise1", "exercise2", "exercise3", "exercise4"):
        present = {p.name for p in CASES if p.parent.name == ex_id}
        assert standard <= present, f"{ex_id} lacks scenarios {sorted(standard - present)}"


@pytest.fixture(scope="module")
def launcher() -> Iterator[Any]:
    """One warm process-mode launcher for every scenario (the CLI takes this process's own)."""
    key = os.getpid()
    saved = sandbox._SHARED.get(key)
    sandbox._SHARED[key] = warm = sandbox.ForkLauncher()
    yield warm
    warm.close()
    if saved is None:
        sandbox._SHARED.pop(key, None)
    else:
        sandbox._SHARED[key] = saved


@pytest.mark.parametrize("folder", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_scenario(folder: Path, workspace: Path, launcher: Any, capsys: pytest.CaptureFixture[str],
                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(ROOT)
    ex_id = folder.parent.name
    shutil.copy(folder / "submission.py", workspace / f"{ex_id}.py")
    with pytest.raises(SystemExit) as exited:
        main([ex_id, "--workspace", str(workspace), "--format", "json", "--devices", "cpu,meta",
              *extra_args(folder)])
    out, err = capsys.readouterr()
    report = json.loads(out)  # exactly one JSON document, nothing else
    full = report["score"] == report["max_score"]
    assert exited.value.code == (0 if full else 1), err
    assert "Traceback" not in err, err
    assert report["isolation"] == "process"
    assert_golden(report, folder / "expected.json")
