"""Golden scenario tests: each folder under tests/scenarios/<exercise>/<name>/ holds a
submission.py and the expected.json report; the real CLI grades it in a subprocess.

An optional args.txt in a folder holds extra command-line arguments (shell-quoted,
`#` comments allowed), e.g. `--timeout 1` so that a hanging submission stays fast.

Scenarios run in process isolation (GRADER_ISOLATION=process): the report is the same
under bubblewrap (the sandbox's own tests cover it), and each run is faster without it.

Regenerate after an intended change with UPDATE_GOLDEN=1 pytest tests/test_scenarios.py
and review the diff.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from conftest import SCENARIOS, assert_golden, grade_submission

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


@pytest.mark.parametrize("folder", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_scenario(folder: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_ISOLATION", "process")
    ex_id = folder.parent.name
    proc, report = grade_submission(ex_id, folder / "submission.py", workspace, "--devices", "cpu,meta",
                                    *extra_args(folder))
    full = report["score"] == report["max_score"]
    assert proc.returncode == (0 if full else 1), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert report["isolation"] == "process"
    assert_golden(report, folder / "expected.json")
