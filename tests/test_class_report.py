"""`OUT/report.html`, the class at a glance: `grade report OUT/` rebuilds it (and summary.csv,
junit.xml) from the students' JSON files, and headless Chromium shows what the instructor
sees: the numbers, the failure groups, the drill-down, sorting and filtering, no console
errors, and nothing a student wrote run as markup."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from browser import Browser, chromium_or_skip
from conftest import ROOT, run_grade
from test_formats import validate_junit

from grader.batch import load_reports
from grader.classreport import class_report_html, failure_key, histogram_bins
from grader.cli import main
from grader.course import CourseDir
from grader.results import ExerciseReport, duration_text, exercises_of
from grader.scan import Flag

CASE = "on cpu, case 1 (x=tensor of shape (2, 2), float32): "
AUTOGRAD = f"[use autograd] {CASE}use autograd: make a leaf with x.detach().requires_grad_()"
TWICE = ("[same result twice] {where}calling cube_grad a second time with the same inputs gave a different result "
         "(result: 4 of 4 values differ; max abs error {a}, max rel error 1; first at index (0, 0): expected {a}, "
         "got {b}); did gradients accumulate in .grad? Start from a fresh leaf tensor")
EVIL = "<img src=x onerror=alert(1)>"
DEADLINE = datetime(2025, 3, 1, 23, 59, tzinfo=timezone(timedelta(hours=1)))


def task(name: str, points: float, status: str = "passed", feedback: str = "") -> dict[str, Any]:
    return {"name": name, "score": points if status == "passed" else 0.0, "max_score": points, "status": status,
            "feedback": feedback, "devices": {"cpu": status, "meta": status}, "time_s": 0.01}


def ex3(student: str, grad: dict[str, Any], second: dict[str, Any], output: str = "") -> dict[str, Any]:
    tasks = [grad, second]
    return {"version": 1, "exercise": "exercise3", "title": "Gradients of x³", "student": student,
            "score": sum(t["score"] for t in tasks), "max_score": 6.0, "tasks": tasks, "output": output,
            "isolation": "process", "time_s": 0.5}


def write_class(out: Path) -> None:
    """Six students whose outcomes the page must show as numbers and groups."""
    out.mkdir()
    ex4 = {"version": 1, "exercise": "exercise4", "title": "A two-layer dense net by matmul",
           "score": 6.0, "max_score": 6.0, "tasks": [task("init_params", 2.0), task("dense_forward", 4.0)],
           "output": "", "isolation": "process", "time_s": 0.4}
    alice = ex3("alice", task("cube_grad", 3.0), task("cube_second_grad", 3.0))
    files = {
        "alice": {"version": 1, "student": "alice", "score": 12.0, "max_score": 12.0,
                  "exercises": [{k: v for k, v in alice.items() if k != "student"}, ex4]},
        "bob": ex3("bob", task("cube_grad", 3.0, "failed", AUTOGRAD), task("cube_second_grad", 3.0, "failed", AUTOGRAD)),
        "carol": ex3("carol", task("cube_grad", 3.0, "failed", TWICE.format(where=CASE, a=75, b=150)),
                     task("cube_second_grad", 3.0)),
        "dave": ex3("dave", task("cube_grad", 3.0, "failed",
                                 TWICE.format(where=CASE.replace("case 1", "case 2"), a=48, b=96)),
                    task("cube_second_grad", 3.0)),
        "erin": ex3("erin", task("cube_grad", 3.0, "timeout", "cube_grad took longer than 1 s and was stopped"),
                    task("cube_second_grad", 3.0, "grader_error", "the grader could not grade this task")),
        EVIL: ex3(EVIL, task("cube_grad", 3.0, "error", "RuntimeError: <script>alert(2)</script>\x1b[31m"),
                  task("cube_second_grad", 3.0), output="printed \u202egnp.exe <b>bold</b>"),
    }
    for name, data in files.items():
        (out / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")


def test_failure_key_groups_by_rule_and_feedback_numbers_aside() -> None:
    carol = failure_key("failed", TWICE.format(where=CASE, a=75, b=150))
    dave = failure_key("failed", TWICE.format(where=CASE.replace("case 1", "case 2"), a=48, b=96))
    assert carol[0] == dave[0] == "same result twice"
    assert carol[1].startswith("calling cube_grad a second time") and carol[2] == dave[2] and carol[1] != dave[1]
    assert failure_key("timeout", "cube_grad took longer than 1 s")[:2] == ("timeout", "cube_grad took longer than 1 s")
    assert failure_key("failed", "") == ("failed", "", "")
    assert histogram_bins([0.0, 0.05, 0.5, 0.999, 1.0, 1.0]) == [2, 0, 0, 0, 0, 1, 0, 0, 0, 1, 2]


def test_grade_report_rebuilds_the_class_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "grades"
    write_class(out)
    proc = run_grade("report", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"wrote {out / name}" for name in
                                        ("summary.csv", "junit.xml", "scores.png", "report.html")]
    rows = {r["student"]: r for r in csv.DictReader((out / "summary.csv").open(encoding="utf-8"))}
    assert sorted(rows) == sorted(["alice", "bob", "carol", "dave", "erin", EVIL])
    assert (rows["alice"]["score"], rows["carol"]["exercise3.cube_second_grad"], rows["bob"]["exercise4"]) == \
           ("12", "3", "")
    junit = validate_junit((out / "junit.xml").read_text(encoding="utf-8"))
    assert len(list(junit)) == 7
    reports = load_reports(out)
    course = CourseDir(ROOT)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page == class_report_html(reports, course.exercise_ids, course.course.title)
    assert "late" not in rows["alice"] and 'data-card="late"' not in page  # no deadline: nothing about lateness

    (out / "notes.json").write_text("[1, 2]")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(out)])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (f"error: {out / 'notes.json'}: not a report of grade batch (ValueError: not a "
                                       f"JSON object); move it out of {out} or grade again\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path / "nowhere")])
    assert exit_info.value.code == 2
    assert "no such folder; pass the --out folder of a `grade batch` run" in capsys.readouterr().err


def test_late_submissions_survive_grade_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`grade report OUT/` reads lateness back from the JSON files (the fields `grade batch` wrote):
    summary.csv's `late` column and the page's tile, table, tag and "needs a look" have it."""
    out = tmp_path / "grades"
    write_class(out)
    for name, handed_in in (("carol", "2025-03-03T01:00:00+01:00"), ("dave", "2025-03-01T12:00:00+01:00")):
        data = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
        late_by = max(0.0, (datetime.fromisoformat(handed_in) - DEADLINE).total_seconds())
        data.update(submitted_at=handed_in, deadline=DEADLINE.isoformat(), late=late_by > 0, late_by_s=late_by)
        (out / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(out), "--course", str(ROOT)])
    assert exit_info.value.code == 0, capsys.readouterr().err
    reports = load_reports(out)
    assert [(s, ex.late_by_s) for s, r in reports.items() for ex in exercises_of(r) if ex.late_by_s is not None] == \
        [("carol", 90060.0), ("dave", 0.0)]
    rows = {r["student"]: r["late"] for r in csv.DictReader((out / "summary.csv").open(encoding="utf-8"))}
    assert rows == {"alice": "", "bob": "", "carol": "exercise3:1d01h", "dave": "", "erin": "", EVIL: ""}
    page = (out / "report.html").read_text(encoding="utf-8")
    assert re.search(r'data-card="late"><div class="v">1<', page)
    assert re.findall(r'id="student-(\w+)" data-tags="[^"]*\blate\b', page) == ["carol"]
    assert re.search(r'data-status="late" open><summary>Late submissions: 1</summary>.*?<tr data-student="carol">'
                     r"<td>.*?</td><td>exercise3</td><td>2025-03-03 01:00:00\+01:00</td>"
                     r'<td>2025-03-01 23:59:00\+01:00</td><td class="num late-by">1d01h</td></tr></tbody>', page)
    (out / "dave.json").write_text((out / "dave.json").read_text().replace("+01:00", ""))  # no timezone
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(out), "--course", str(ROOT)])
    assert exit_info.value.code == 2
    assert "dave.json: not a report of grade batch (ValueError: submitted_at '2025-03-01T12:00:00' has no " \
           "timezone)" in capsys.readouterr().err


def test_durations_read_as_people_say_them() -> None:
    assert [duration_text(s) for s in (0.2, 45, 60, 750, 7500, 86399, 90060, 40 * 86400)] == \
        ["1s", "45s", "1m00s", "12m30s", "2h05m", "23h59m", "1d01h", "40d00h"]


def test_the_class_report_in_a_browser(tmp_path: Path) -> None:
    chromium = chromium_or_skip()
    out = tmp_path / "grades"
    write_class(out)
    reports = load_reports(out)
    erin = reports["erin"]
    assert isinstance(erin, ExerciseReport)
    reports["erin"] = replace(erin, flags=(Flag("reads the grader", 7, "import grader.compare"),))
    for name, late in (("carol", timedelta(hours=1)), ("dave", timedelta(0))):  # graded against a deadline
        report = reports[name]
        assert isinstance(report, ExerciseReport)
        reports[name] = replace(report, submitted_at=DEADLINE + late, deadline=DEADLINE)
    page = tmp_path / "report.html"
    page.write_text(class_report_html(reports, CourseDir(ROOT).exercise_ids, "Deep learning 101"), encoding="utf-8")

    with Browser(chromium) as browser:
        browser.open(page)
        js = browser.js
        cards = js("Object.fromEntries([...document.querySelectorAll('.card')].map("
                   "c => [c.querySelector('.k').innerText, c.querySelector('.v').innerText]))")
        assert cards == {"students": "6", "mean": "3.5 / 12", "median": "3 / 12", "full marks": "1", "timeouts": "1",
                         "errors": "1", "grader errors": "1", "missing": "5", "late": "1", "review flags": "1"}
        bars = js("[...document.querySelectorAll('svg.hist rect')].map(r => r.querySelector('title').textContent)")
        assert bars[0] == "0–9%: 2 students" and bars[2] == "20–29%: 3 students" and bars[10] == "100%: 1 students"
        rates = js("Object.fromEntries([...document.querySelectorAll('#exercises tr[data-task]')].map("
                   "r => [r.dataset.task, r.querySelector('.rate-pct').innerText + ' ' + r.cells[3].innerText]))")
        assert rates == {"exercise3.cube_grad": "17% 1/6", "exercise3.cube_second_grad": "67% 4/6",
                         "exercise4.init_params": "100% 1/1", "exercise4.dense_forward": "100% 1/1"}
        groups = js("[...document.querySelectorAll('.task-failures[data-task=\"exercise3.cube_grad\"] li.group')]"
                    ".map(li => li.innerText.replace(/\\s+/g, ' '))")
        assert groups[0].startswith("2 failed same result twice calling cube_grad a second time with the same inputs")
        assert "(numbers vary) 2 students" in groups[0]
        assert js("[...document.querySelectorAll('.task-failures[data-task=\"exercise3.cube_grad\"] li.group')][0]"
                  ".querySelector('details').textContent") == "2 studentscarol, dave"
        assert groups[1:] == ["1 error RuntimeError: <script>alert(2)</script>\\x1b[31m 1 student",
                              "1 timeout cube_grad took longer than 1 s and was stopped 1 student",
                              "1 failed use autograd use autograd: make a leaf with x.detach().requires_grad_() 1 student"]
        attention = js("Object.fromEntries([...document.querySelectorAll('details.attention')].map("
                       "d => [d.dataset.status, d.querySelector('summary').innerText]))")
        assert attention == {"timeout": "Timeouts: 1", "error": "Errors (the code raised or crashed): 1",
                             "grader_error": "Grader errors: 1", "missing": "Missing submissions: 5",
                             "late": "Late submissions: 1", "flags": "Review flags: 1"}
        assert "reads the grader\t7\timport grader.compare" in js(
            "document.querySelector('details[data-status=flags]').innerText")

        # the table: every student, sorted by name; sort by total; filter; drill down
        names = "[...document.querySelectorAll('#student-table tbody:not([hidden]) button.who')].map(b => b.innerText)"
        assert js(names) == [EVIL, "alice", "bob", "carol", "dave", "erin"]
        js("document.querySelector('button[data-key=total]').click()")
        assert js(names)[0] == "alice"
        js("document.querySelector('button[data-key=total]').click()")
        assert js(names)[-1] == "alice"
        js("const f = document.getElementById('filter'); f.value = 'car'; f.dispatchEvent(new Event('input'))")
        assert js(names) == ["carol"] and js("document.getElementById('shown').innerText") == "1 of 6 students shown"
        js("f.value = ''; f.dispatchEvent(new Event('input')); const s = document.getElementById('show');"
           "s.value = 'timeout'; s.dispatchEvent(new Event('change'))")
        assert js(names) == ["erin"]
        js("s.value = 'missing'; s.dispatchEvent(new Event('change'))")
        assert sorted(js(names)) == sorted(["bob", "carol", "dave", "erin", EVIL])
        js("s.value = 'late'; s.dispatchEvent(new Event('change'))")
        assert js(names) == ["carol"] and js("document.getElementById('shown').innerText") == "1 of 6 students shown"
        assert js("document.querySelector('#student-carol td.num .st.late').innerText") == "late 1h00m"
        js("document.querySelector('#student-carol button.who').click()")
        assert "handed in 2025-03-02 00:59:00+01:00, deadline 2025-03-01 23:59:00+01:00: 1h00m late (no points " \
               "taken off)" in js("document.querySelector('#student-carol tr.detail').innerText")
        js("document.querySelector('#student-carol button.who').click()")
        js("document.querySelector('#student-dave button.who').click()")
        assert ", deadline 2025-03-01 23:59:00+01:00: on time" in js(
            "document.querySelector('#student-dave tr.detail').innerText")
        js("document.querySelector('#student-dave button.who').click()")
        js("s.value = 'all'; s.dispatchEvent(new Event('change'))")

        detail = "document.getElementById('student-bob').querySelector('tr.detail')"
        assert js(f"{detail}.hidden") is True
        js("document.querySelector('#student-bob button.who').click()")
        text = js(f"{detail}.innerText")
        assert js(f"{detail}.hidden") is False
        assert "exercise3: 0/6 points" in text and "exercise4: missing" in text
        assert "cube_grad 0/3 failed cpu✘ meta✘ [use autograd] on cpu, case 1" in " ".join(text.split())
        js("document.querySelector('#student-bob button.who').click()")
        assert js(f"{detail}.hidden") is True

        js("location.hash = '#student-erin'")
        text = js("new Promise(r => setTimeout(() => r(document.querySelector('#student-erin tr.detail').innerText),"
                  " 100))")
        assert "grader_error" in text and "reads the grader (line 7): import grader.compare" in text

        # what a student wrote is text, never markup; invisible characters are shown
        js(f"document.getElementById({json.dumps('student-' + EVIL)}).querySelector('button.who').click()")
        text = js(f"document.getElementById({json.dumps('student-' + EVIL)}).innerText")
        assert "RuntimeError: <script>alert(2)</script>\\x1b[31m" in text
        assert js("document.querySelectorAll('img, b, script:not([id=details])').length") == 1  # the page's script
        js(f"document.getElementById({json.dumps('student-' + EVIL)}).querySelector('details').open = true")
        assert "printed \\u202egnp.exe <b>bold</b>" in js(
            f"document.getElementById({json.dumps('student-' + EVIL)}).querySelector('pre.out').innerText")
        assert js("performance.getEntriesByType('resource').length") == 0  # nothing fetched: no network, no CDN
        assert browser.problems() == []
