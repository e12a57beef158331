"""A class under fire (issue 11): honest students interleaved with every hostile submission of
tests/hostile/, graded by `grade batch` with one worker and with two. Each honest student's
report is the one they get when graded alone (timings apart); every hostile student has a
row in summary.csv, junit.xml and the JSON summary; the batch finishes with exit 0."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, course_with_defaults, run_grade, without_times

HOSTILE = Path(__file__).resolve().parent / "hostile"
HONEST = {  # names sort between the hostile ones: each is graded right after an attack
    "ex3_f_honest": ("exercise3", (ROOT / "solutions" / "exercise3.py").read_text()),
    "ex3_m_honest": ("exercise3", (ROOT / "solutions" / "exercise3.py").read_text().replace("**3", "**2")),
    "ex4_h_honest": ("exercise4", (ROOT / "solutions" / "exercise4.py").read_text()),
    "ex9_a_honest": ("exercise9", (ROOT / "solutions" / "exercise9.py").read_text()),
}


def _exercise_of(path: Path) -> str:
    match = re.search(r"^exercise: (\w+)$", path.read_text(encoding="utf-8"), re.M)
    assert match, path
    return match.group(1)


def _plain(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in without_times(report).items() if k != "student"}


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real course with short limits (the class has about sixty submissions)."""
    return course_with_defaults(tmp_path_factory.mktemp("course"), timeout=2, import_timeout=4)


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_a_class_under_fire(course: Path, tmp_path: Path) -> None:
    subs = tmp_path / "class"
    students: dict[str, str] = {}
    for path in sorted(HOSTILE.glob("*.py")):
        ex_id = _exercise_of(path)
        (subs / path.stem).mkdir(parents=True)
        shutil.copy(path, subs / path.stem / f"{ex_id}.py")
        students[path.stem] = ex_id
    for name, (ex_id, source) in HONEST.items():
        (subs / name).mkdir(parents=True)
        (subs / name / f"{ex_id}.py").write_text(source)
        students[name] = ex_id
    alone: dict[str, dict[str, Any]] = {}
    for name, (ex_id, _) in HONEST.items():
        proc = run_grade(ex_id, "--course", str(course), "--workspace", str(subs / name), "--format", "json",
                         "--devices", "cpu,meta", timeout=300)
        alone[name] = _plain(json.loads(proc.stdout))
    for jobs in ("1", "2"):
        out = tmp_path / f"grades-j{jobs}"
        proc = run_grade("batch", str(subs), "--course", str(course), "--out", str(out), "-j", jobs,
                         "--devices", "cpu,meta", "--format", "json", timeout=1400)
        assert proc.returncode == 0, proc.stderr[-3000:]
        summary = json.loads(proc.stdout)
        assert {s["student"] for s in summary["students"]} == set(students)
        for name in HONEST:
            assert _plain(json.loads((out / f"{name}.json").read_text())) == alone[name], (jobs, name)
        rows = (out / "summary.csv").read_text().splitlines()[1:]
        assert sorted(r.split(",")[0] for r in rows) == sorted(students)
        suites = {s.get("name") for s in ET.parse(out / "junit.xml").getroot()}
        assert suites == {f"{name}.{ex_id}" for name, ex_id in students.items()}
