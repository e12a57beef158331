"""CI and LMS outputs: `--format junit` is JUnit XML that CI systems read (checked against the
structure of the common JUnit schema and by junitparser), `--format gradescope` is Gradescope's
results.json (checked against tests/schemas/gradescope_results.schema.json)."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import ROOT, SCENARIOS, run_grade
from hypothesis import given, settings
from hypothesis import strategies as st
from junitparser import Error, Failure, JUnitXml

from grader.cli import main
from grader.reports import to_classroom, to_gradescope, to_junit, to_junit_batch
from grader.results import CourseReport, ExerciseReport, TaskResult

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "gradescope_results.schema.json").read_text())

# The common JUnit schema (Jenkins' junit-10.xsd, which CI reporters follow): allowed
# attributes, required attributes, and children in order as (tag, occurrences).
JUNIT: dict[str, dict[str, Any]] = {
    "testsuites": {"attrs": {"name", "time", "tests", "failures", "errors", "skipped", "disabled"},
                   "required": set(), "children": [("testsuite", "*")]},
    "testsuite": {"attrs": {"name", "tests", "failures", "errors", "skipped", "disabled", "time", "timestamp",
                            "hostname", "id", "package", "file", "log", "url", "version", "group"},
                  "required": {"name", "tests"},
                  "children": [("properties", "?"), ("testcase", "*"), ("system-out", "?"), ("system-err", "?")]},
    "properties": {"attrs": set(), "required": set(), "children": [("property", "+")]},
    "property": {"attrs": {"name", "value"}, "required": {"name", "value"}, "children": []},
    "testcase": {"attrs": {"name", "classname", "time", "assertions", "status", "group", "file", "line"},
                 "required": {"name"}, "children": "any-of skipped error failure system-out system-err"},
    "failure": {"attrs": {"message", "type"}, "required": set(), "children": [], "text": True},
    "error": {"attrs": {"message", "type"}, "required": set(), "children": [], "text": True},
    "skipped": {"attrs": {"message"}, "required": set(), "children": [], "text": True},
    "system-out": {"attrs": set(), "required": set(), "children": [], "text": True},
    "system-err": {"attrs": set(), "required": set(), "children": [], "text": True},
}
INTEGER_ATTRS = {"tests", "failures", "errors", "skipped", "disabled", "assertions"}


def _check_element(el: ET.Element, path: str) -> None:
    rule = JUNIT.get(el.tag)
    assert rule is not None, f"{path}: <{el.tag}> is not a JUnit element"
    assert set(el.attrib) <= rule["attrs"], f"{path}: unknown attributes {set(el.attrib) - rule['attrs']}"
    assert rule["required"] <= set(el.attrib), f"{path}: missing attributes {rule['required'] - set(el.attrib)}"
    for key, value in el.attrib.items():
        if key in INTEGER_ATTRS:
            assert value.isdigit(), f"{path}@{key}: not a count: {value!r}"
        if key == "time":
            assert float(value) >= 0, f"{path}@time: {value!r}"
    children = list(el)
    spec = rule["children"]
    if isinstance(spec, str):
        allowed = set(spec.split()[1:])
        assert all(c.tag in allowed for c in children), f"{path}: children {[c.tag for c in children]}"
    else:
        i = 0
        for tag, occurs in spec:
            n = 0
            while i < len(children) and children[i].tag == tag:
                i, n = i + 1, n + 1
            assert n <= (1 if occurs == "?" else n), f"{path}: more than one <{tag}>"
            assert n >= (1 if occurs == "+" else 0), f"{path}: needs <{tag}>"
        assert i == len(children), f"{path}: <{children[i].tag}> out of order or not allowed in <{el.tag}>"
    if not rule.get("text"):
        assert not (el.text or "").strip(), f"{path}: text not allowed in <{el.tag}>"
    for n, child in enumerate(children):
        _check_element(child, f"{path}/{child.tag}[{n}]")


def validate_junit(text: str) -> JUnitXml:
    """Structure of the common JUnit schema, counts that add up, and junitparser reads it back."""
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    _check_element(root, "testsuites")
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "0")) == sum(c.find("failure") is not None for c in cases)
        assert int(suite.get("errors", "0")) == sum(c.find("error") is not None for c in cases)
    xml = JUnitXml.fromstring(text)
    assert isinstance(xml, JUnitXml)
    return xml


def validate_gradescope(doc: Any) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert doc["score"] == pytest.approx(sum(t["score"] for t in doc["tests"]))


def _report(student: str | None = None) -> ExerciseReport:
    tasks = (
        TaskResult("good", 2.0, 2.0, "passed", "", {"cpu": "passed", "meta": "passed"}),
        TaskResult("wrong", 0.0, 3.0, "failed", "[values] on cpu: expected <1 & 2>, got \"3\"\nsecond line",
                   {"cpu": "failed"}),
        TaskResult("broken", 0.0, 1.0, "error", "[exception] on cpu, case 1 (x=1): ZeroDivisionError: \x00\x1b[31m\n"
                   '  File "exercise9.py", line 3, in helper\n    1 / 0\n  File "exercise9.py", line 7, in broken\n'
                   "    return helper()", {"cpu": "error"}, 0.042),
        TaskResult("slow", 0.0, 4.0, "timeout", "took longer than 1 s", {"cpu": "timeout"}, 1.5),
    )
    return ExerciseReport("exercise9", "Everything at once", tasks, output="printed \x07 <b>", seconds=0.25,
                          student=student)


def test_every_status_renders_as_valid_junit_and_gradescope() -> None:
    report = _report()
    xml = validate_junit(to_junit(report))
    (suite,) = list(xml)
    cases = {case.name: case for case in suite}
    assert list(cases) == ["good", "wrong", "broken", "slow"]
    assert cases["good"].is_passed
    assert isinstance(cases["wrong"].result[0], Failure)
    assert cases["wrong"].result[0].message.startswith("[values] on cpu: expected <1 & 2>")
    assert isinstance(cases["broken"].result[0], Error) and isinstance(cases["slow"].result[0], Error)
    assert cases["slow"].result[0].type == "timeout"
    assert [case.time for case in cases.values()] == [0.0, 0.0, 0.042, 1.5]
    where = {case.name: (case._elem.get("file"), case._elem.get("line")) for case in cases.values()}
    assert where["broken"] == ("exercise9.py", "7")  # the innermost frame of the student's file
    assert where["wrong"] == where["slow"] == (None, None)
    doc = json.loads(to_gradescope(report))
    validate_gradescope(doc)
    assert doc["score"] == 2.0
    assert [(t["name"], t["score"], t["max_score"], t["status"]) for t in doc["tests"]] == [
        ("exercise9: good", 2.0, 2.0, "passed"), ("exercise9: wrong", 0.0, 3.0, "failed"),
        ("exercise9: broken", 0.0, 1.0, "failed"), ("exercise9: slow", 0.0, 4.0, "failed")]
    assert "second line" in doc["tests"][1]["output"]
    classroom = json.loads(to_classroom(report))
    assert (classroom["version"], classroom["status"], classroom["max_score"]) == (1, "error", 10.0)
    assert [(t["name"], t["status"], t["score"], t["line_no"], t["execution_time"]) for t in classroom["tests"]] == [
        ("exercise9: good", "pass", 2.0, 0, "0.000s"), ("exercise9: wrong", "fail", 0.0, 0, "0.000s"),
        ("exercise9: broken", "error", 0.0, 7, "0.042s"), ("exercise9: slow", "error", 0.0, 0, "1.500s")]
    assert classroom["tests"][1]["message"] == report.tasks[1].feedback


def test_junit_says_each_feedback_once_and_strict_readers_take_a_class() -> None:
    """xunitparser merges the properties of every suite and refuses a name twice; each
    feedback is in its <failure>/<error> only; a status it does not know is an <error>."""
    xunitparser = pytest.importorskip("xunitparser")
    wrong = _report().tasks[1].feedback  # its first line is also the <failure>'s message, as JUnit has it
    odd = TaskResult("judge", 0.0, 1.0, "grader_error", "the grader could not grade this task")
    carol = ExerciseReport("exercise9", "Everything at once", (*_report().tasks, odd), student="carol")
    alice = CourseReport((_report(), replace(_report(), exercise="exercise8")), student="alice")
    text = to_junit_batch({"alice": alice, "bob": _report("bob"), "carol": carol})
    validate_junit(text)
    root = ET.fromstring(text.encode())
    assert wrong.endswith("\nsecond line") and text.count("second line") == 4  # once per suite with the task
    props = [p.get("name") for p in root.iter("property")]
    assert len(props) == len(set(props)) and "bob.exercise9.score" in props
    judge = [c for c in root.iter("testcase") if c.get("name") == "judge"]
    assert [child.tag for child in judge[0]] == ["error", "system-out"]
    assert judge[0].find("error").get("type") == "grader_error"  # type: ignore[union-attr]
    suites, result = xunitparser.parse(io.StringIO(text))
    assert result.testsRun == 3 * 4 + 5
    assert len(result.failures) == 4 and len(result.errors) == 3 * 2 + 3
    failed = {str(test) for test, _ in result.failures}
    assert "wrong (carol.exercise9)" in failed


def test_several_exercises_and_a_class_render_one_suite_per_exercise() -> None:
    course = CourseReport((_report(), _report()), student="alice")
    validate_gradescope(json.loads(to_gradescope(course)))
    xml = validate_junit(to_junit(course))
    assert [s.name for s in xml] == ["alice.exercise9", "alice.exercise9"]
    batch = validate_junit(to_junit_batch({"alice": course, "bob": _report("bob")}))
    assert [s.name for s in batch] == ["alice.exercise9", "alice.exercise9", "bob.exercise9"]
    assert {c.classname for s in batch for c in s} == {"alice.exercise9", "bob.exercise9"}


def test_the_validators_reject_what_ci_and_gradescope_reject() -> None:
    """The checks above can fail: properties after the test cases, a test without max_score."""
    bad = to_junit(_report())
    root = ET.fromstring(bad.encode())
    suite = root.find("testsuite")
    assert suite is not None
    props = suite.find("properties")
    assert props is not None
    suite.remove(props)
    suite.append(props)
    with pytest.raises(AssertionError, match="out of order"):
        validate_junit('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode"))
    doc = json.loads(to_gradescope(_report()))
    del doc["tests"][0]["max_score"]
    with pytest.raises(jsonschema.ValidationError):
        validate_gradescope(doc)


def test_grade_exercise_writes_junit_and_gradescope(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI a CI job runs: a graded-but-wrong submission, JUnit to a file, exit code 1;
    then Gradescope's results.json on stdout (in-process, to save a start-up)."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "exercise3.py").write_text((SCENARIOS / "exercise3/analytic_formula/submission.py").read_text())
    out = tmp_path / "reports" / "junit.xml"
    proc = run_grade("exercise3", "--workspace", str(ws), "--devices", "cpu,meta", "--format", "junit",
                     "--output", str(out))
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    xml = validate_junit(out.read_text())
    cases = [case for suite in xml for case in suite]
    assert [c.name for c in cases] == ["cube_grad", "cube_second_grad"]
    assert all(isinstance(c.result[0], Failure) and "use autograd" in c.result[0].message for c in cases)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["exercise3", "--workspace", str(ws), "--devices", "cpu,meta", "--format", "gradescope"])
    assert exit_info.value.code == 1
    doc = json.loads(capsys.readouterr().out)
    validate_gradescope(doc)
    assert doc["score"] == 0
    assert [(t["name"], t["visibility"]) for t in doc["tests"]] == [  # hidden cases: a test of their own
        ("exercise3: cube_grad (visible cases)", "visible"), ("exercise3: cube_grad (hidden cases)", "after_published"),
        ("exercise3: cube_second_grad (visible cases)", "visible"),
        ("exercise3: cube_second_grad (hidden cases)", "after_published")]
    assert all("use autograd" in t["output"] for t in doc["tests"])


def test_gradescope_run_autograder_writes_results_json(tmp_path: Path) -> None:
    """examples/gradescope/run_autograder in Gradescope's layout (a temp /autograder), no network."""
    root = tmp_path / "autograder"
    (root / "submission" / "upload").mkdir(parents=True)
    (root / "source").symlink_to(ROOT)
    (root / "submission" / "upload" / "my_answer.py").write_text((ROOT / "solutions" / "exercise3.py").read_text())
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADE": f"{sys.executable} -m grader",
           "EXERCISE": "exercise3", "PYTHON": sys.executable}
    script = ROOT / "examples" / "gradescope" / "run_autograder"
    proc = subprocess.run(["bash", str(script)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((root / "results" / "results.json").read_text())
    validate_gradescope(doc)
    assert doc["score"] == 6.0
    assert [(t["name"], t["score"]) for t in doc["tests"]] == [
        ("exercise3: cube_grad (visible cases)", 0.0), ("exercise3: cube_grad (hidden cases)", 3.0),
        ("exercise3: cube_second_grad (visible cases)", 0.0), ("exercise3: cube_second_grad (hidden cases)", 3.0)]
    shutil.rmtree(root / "submission")
    (root / "submission").mkdir()
    proc = subprocess.run(["bash", str(script)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((root / "results" / "results.json").read_text())
    validate_gradescope(doc)
    assert doc["score"] == 0 and "No Python file or notebook in your submission" in doc["output"]


def test_github_classroom_workflow_grades_the_student_repository(tmp_path: Path) -> None:
    """The workflow's steps, run as written in a student's checkout with the course beside it:
    one grading, then JUnit and the Classroom runner result from its JSON, whose points add up
    as GitHub's autograding-grading-reporter adds them ("Points <score>/<max>")."""
    workflow = yaml.safe_load((ROOT / "examples" / "github-classroom" / "grade.yml").read_text())
    job = workflow["jobs"]["run-autograding-tests"]
    assert (workflow["name"], job["name"]) == ("Autograding Tests", "Autograding Tests")
    steps = {s.get("name"): s for s in job["steps"]}
    reporter = steps["Autograding Reporter"]
    assert reporter["uses"].startswith("classroom-resources/autograding-grading-reporter@")
    runner = reporter["with"]["runners"]
    assert reporter["env"] == {f"{runner.upper()}_RESULTS": "${{ steps.points.outputs.result }}"}
    assert steps["Show the result"]["with"]["report_paths"] == "reports/junit.xml"
    (tmp_path / ".course").symlink_to(ROOT)
    (tmp_path / "exercise3.py").write_text((SCENARIOS / "exercise3/analytic_formula/submission.py").read_text())
    bin_dir = tmp_path / "bin"  # `grade` as pip installs it, running this checkout
    bin_dir.mkdir()
    (bin_dir / "grade").write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m grader "$@"\n')
    (bin_dir / "grade").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT),
           "GITHUB_OUTPUT": str(tmp_path / "github_output")}
    grade = shlex.split(steps["Grade"]["run"]) + ["--devices", "cpu,meta"]
    proc = subprocess.run(grade, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr  # graded, not full marks: the job shows red
    proc = subprocess.run(["bash", "-e", "-c", steps["Points and test report"]["run"]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    graded = json.loads((tmp_path / "reports" / "grade.json").read_text())
    xml = validate_junit((tmp_path / "reports" / "junit.xml").read_text())
    suites = {suite.name: suite for suite in xml}
    assert "exercise3" in suites and "exercise1" in suites
    assert all(isinstance(case.result[0], Failure) for case in suites["exercise3"])
    (line,) = (tmp_path / "github_output").read_text().splitlines()
    assert line.startswith("result=")
    result = json.loads(base64.b64decode(line.removeprefix("result=")))
    total = sum(test["score"] for test in result["tests"])  # as the reporter's NotifyClassroom sums them
    assert f"Points {total:g}/{result['max_score']:g}" == f"Points {graded['score']:g}/{graded['max_score']:g}"
    assert result["version"] == 1 and result["status"] == "fail"
    tests = {t["name"]: t for t in result["tests"]}
    assert tests["exercise3: cube_grad"]["status"] == "fail" and "use autograd" in tests["exercise3: cube_grad"][
        "message"]


# ---------------------------------------------------------------- inert output (issue 11): property test

_ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=60) | st.sampled_from([
    "\x1b[2J\x1b[H", "\x1b]52;c;RkFLRQ==\x07", "\x9b31m", "\ud800", "a\udc80b", "<script>x</script>",
    "# Your grade\n**6/6**", "\r\n", "\x00\x7f\u202e\ufffe"])


@given(feedback=_ANY_TEXT, output=_ANY_TEXT, student=_ANY_TEXT)
@settings(max_examples=150, deadline=None)
def test_every_renderer_gives_valid_inert_text_whatever_the_student_produced(feedback: str, output: str,
                                                                             student: str) -> None:
    import io

    from rich.console import Console

    from grader.inert import for_html
    from grader.reports import print_table, to_json

    tasks = (TaskResult("f", 0.0, 1.0, "error", feedback, {"cpu": "error"}),
             TaskResult("g", 1.0, 1.0, "passed", "", {"cpu": "passed"}))
    report = ExerciseReport("exercise3", "t", tasks, output=output, student=student or None)
    buf = io.StringIO()
    print_table(report, console=Console(file=buf, width=100, no_color=True, force_terminal=False))
    rendered = {"json": to_json(report), "junit": to_junit(report), "gradescope": to_gradescope(report),
                "class": to_junit_batch({student or "s": report}), "table": buf.getvalue(),
                "comment": for_html(feedback)}
    for name, text in rendered.items():
        text.encode("utf-8")  # strict: no lone surrogate anywhere
        assert not any(ch < " " and ch not in "\n\t" or "\x7f" <= ch <= "\x9f" for ch in text), (name, text)
    assert json.loads(rendered["json"])["tasks"][0]["feedback"] == report.tasks[0].feedback
    json.loads(rendered["gradescope"])
    ET.fromstring(rendered["junit"].encode("utf-8"))
    ET.fromstring(rendered["class"].encode("utf-8"))
    assert "<" not in rendered["comment"] and ">" not in rendered["comment"]
    assert not re.search(r"(?<!\\)(\\\\)*[#*_`\[\]|]", re.sub(r"&#?\w+;", "", rendered["comment"]))


def test_escape_sequences_are_shown_not_obeyed() -> None:
    from grader.inert import for_html, visible

    assert visible("a\x1b[2Jb\x9b1m\x07\r\nc\ud800") == "a\\x1b[2Jb\\x9b1m\\x07\nc\ufffd"
    assert visible(visible("\x1b")) == "\\x1b"
    assert for_html("<b># [hi](x)</b>") == "&lt;b&gt;\\# \\[hi\\]\\(x\\)&lt;/b&gt;"


def test_gradescope_reports_hidden_cases_as_their_own_tests_with_the_courses_visibility(tmp_path: Path) -> None:
    from grader.course import CourseDir
    from grader.reports import render

    tasks = (TaskResult("f", 0.0, 2.0, "failed", "[values] on cpu, hidden case 3: your result (a tensor) has the "
                        "expected shape and dtype but wrong values", {"cpu": "failed"},
                        hidden={"status": "failed", "feedback": "[values] on cpu, hidden case 3: your result (a tensor) has "
                                                         "the expected shape and dtype but wrong values"}),
             TaskResult("g", 0.0, 1.0, "failed", "[shape] on cpu, case 1 (x=...): result: expected shape (2,)",
                        {"cpu": "failed"}, hidden={"status": "passed", "feedback": ""}),
             TaskResult("h", 1.0, 1.0, "passed", "", {"cpu": "passed"}))
    report = ExerciseReport("exercise3", "t", tasks, output="printed\n" + "x" * 10_000)
    doc = json.loads(to_gradescope(report))
    validate_gradescope(doc)
    assert [(t["name"], t["score"], t["max_score"], t["status"], t["visibility"]) for t in doc["tests"]] == [
        ("exercise3: f (visible cases)", 0.0, 0.0, "passed", "visible"),
        ("exercise3: f (hidden cases)", 0.0, 2.0, "failed", "after_published"),
        ("exercise3: g (visible cases)", 0.0, 0.0, "failed", "visible"),
        ("exercise3: g (hidden cases)", 0.0, 1.0, "failed", "after_published"),
        ("exercise3: h", 1.0, 1.0, "passed", "visible")]
    assert doc["tests"][1]["output"].startswith("[values] on cpu, hidden case 3")
    assert "your code printed:\nprinted\nxxx" in doc["output"] and doc["output"].endswith("more characters] ...")
    root = tmp_path / "course"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns(".git", "tests", "workspace", "*.egg-info"))
    text = (root / "course.yaml").read_text()
    (root / "course.yaml").write_text(text + "gradescope:\n  hidden_visibility: hidden\n")
    doc = json.loads(render(report, "gradescope", CourseDir(root)))
    assert {t["visibility"] for t in doc["tests"]} == {"visible", "hidden"}
