"""Shared helpers: run the real CLI in a subprocess, normalise reports for goldens."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def without_times(report: dict[str, Any]) -> dict[str, Any]:
    """A JSON report without its timings (the report's and each task's `time_s`), which differ
    from run to run: what must be the same when the same code is graded twice."""
    out = {k: v for k, v in report.items() if k != "time_s"}
    if isinstance(out.get("tasks"), list):
        out["tasks"] = [{k: v for k, v in t.items() if k != "time_s"} for t in out["tasks"]]
    if isinstance(out.get("exercises"), list):
        out["exercises"] = [without_times(e) for e in out["exercises"]]
    return out


def course_with_defaults(folder: Path, **defaults: Any) -> Path:
    """The real course in `folder` (its exercises and solutions linked) with other `defaults`
    in course.yaml (shorter timeouts, a smaller memory limit)."""
    import yaml

    data = yaml.safe_load((ROOT / "course.yaml").read_text(encoding="utf-8"))
    data.setdefault("defaults", {}).update(defaults)
    (folder / "course.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    for name in ("exercises", "solutions"):
        (folder / name).symlink_to(ROOT / name)
    return folder


def run_grade(*args: str, cwd: Path | None = None, timeout: float = 120, env: dict[str, str] | None = None,
              input: str | None = None) -> subprocess.CompletedProcess[str]:
    """`grade ARGS...` as a user runs it: a separate process, real stdout/stderr/exit code."""
    full_env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd or ROOT, capture_output=True,
                          text=True, timeout=timeout, env=full_env, input=input)


def normalise(report: Any) -> Any:
    """Remove what changes between runs and machines: timings, absolute paths, and the isolation
    (bwrap where bubblewrap is installed, process elsewhere; the report is otherwise the same)."""
    if isinstance(report, dict):
        return {k: normalise(v) for k, v in report.items() if k not in ("time_s", "isolation", "limits")}
    if isinstance(report, list):
        return [normalise(v) for v in report]
    if isinstance(report, str):
        text = report.replace(str(ROOT), "<ROOT>")
        return re.sub(r"/tmp/[^\s\"']*", "<TMP>", text)
    return report


def assert_golden(actual: Any, golden: Path) -> None:
    """Compare with a golden JSON file; UPDATE_GOLDEN=1 rewrites it instead."""
    actual = normalise(actual)
    if UPDATE or not golden.exists():
        golden.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"golden file {golden} did not exist; it has been written, check it and re-run")
    expected = normalise(json.loads(golden.read_text(encoding="utf-8")))
    assert actual == expected


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "workspace"
    ws.mkdir()
    return ws


