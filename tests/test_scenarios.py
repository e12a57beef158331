"""Golden scenario tests: each folder under tests/scenarios/<exercise>/<name>/ holds a
submission.py and the expected.json report; the real CLI grades it in a subprocess.

Regenerate after an intended change with UPDATE_GOLDEN=1 pytest tests/test_scenarios.py
and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SCENARIOS, assert_golden, grade_submission

CASES = sorted(p for p in SCENARIOS.glob("exercise*/*") if (p / "submission.py").is_file())


@pytest.mark.parametrize("folder", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_scenario(folder: Path, workspace: Path) -> None:
    ex_id = folder.parent.name
    proc, report = grade_submission(ex_id, folder / "submission.py", workspace, "--devices", "cpu,meta")
    full = report["score"] == report["max_score"]
    assert proc.returncode == (0 if full else 1), proc.stderr
    assert_golden(report, folder / "expected.json")
