"""Authoring tools: `grade schema`, `grade new`, and what `grade check` catches.

Most tests run in-process (click's CliRunner, grader.check) on a small course
built in a temporary folder; one runs the real `grade check` command.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from conftest import ROOT, run_grade

from grader import schemadoc
from grader.check import _disagreement, _stray_solutions, check_exercise
from grader.cli import cli
from grader.course import CourseDir
from grader.errors import ConfigError, UsageError
from grader.loader import load_model
from grader.scaffold import EXERCISE_TEMPLATE, SOLUTION_TEMPLATE, scaffold
from grader.schema import Exercise

PROCESS_MODE = {"GRADER_ISOLATION": "process"}  # the same reports, without starting the sandbox

COURSE_YAML = """\
# My course: a comment that grade new must keep.
format_version: 1
title: Tiny course
exercises:
  - exercise1   # the first one
  # more to come
"""


def write_exercise(root: Path, ex_id: str, yaml_text: str | None = None, solution: str | None = None) -> None:
    (root / "exercises").mkdir(exist_ok=True)
    (root / "solutions").mkdir(exist_ok=True)
    (root / "exercises" / f"{ex_id}.yaml").write_text(
        yaml_text or EXERCISE_TEMPLATE.format(schema_line="", title=ex_id, ex_id=ex_id))
    (root / "solutions" / f"{ex_id}.py").write_text(solution or SOLUTION_TEMPLATE.format(ex_id=ex_id, title=ex_id))


@pytest.fixture
def tiny(tmp_path: Path) -> CourseDir:
    (tmp_path / "course.yaml").write_text(COURSE_YAML)
    write_exercise(tmp_path, "exercise1")
    return CourseDir.open(tmp_path)


# ---------------------------------------------------------------- grade schema

def test_schema_validates_every_exercise_and_catches_typos() -> None:
    result = CliRunner().invoke(cli, ["schema", "exercise"])
    assert result.exit_code == 0, result.output
    exercise_schema = json.loads(result.output)
    assert exercise_schema["$schema"] == schemadoc.JSON_SCHEMA_DIALECT
    validator = jsonschema.Draft202012Validator(exercise_schema)
    for path in sorted((ROOT / "exercises").glob("*.yaml")):
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert errors == [], f"{path.name}: {errors}"
    broken = yaml.safe_load((ROOT / "exercises" / "exercise5.yaml").read_text())
    broken["tasks"][0]["pionts"] = 2
    broken["tasks"][1]["kind"] = "functoin"
    messages = sorted(e.message for e in validator.iter_errors(broken))
    assert any("'pionts' was unexpected" in m for m in messages)
    assert any("'functoin' is not one of" in m for m in messages)
    course_schema = json.loads(CliRunner().invoke(cli, ["schema", "course"]).output)
    assert list(jsonschema.Draft202012Validator(course_schema).iter_errors(yaml.safe_load(
        (ROOT / "course.yaml").read_text()))) == []


def test_schema_writes_both_files_to_a_folder_and_refuses_odd_options(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["schema", "--output", str(tmp_path / "schemas")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "schemas" / "course.schema.json").read_text())["title"] == "course.yaml"
    assert json.loads((tmp_path / "schemas" / "exercise.schema.json").read_text())["title"] == "exercises/<id>.yaml"
    both = json.loads(runner.invoke(cli, ["schema"]).output)
    assert set(both) == {"course", "exercise"}
    with pytest.raises(UsageError, match="leave out KIND"):
        runner.invoke(cli, ["schema", "course", "--markdown"], catch_exceptions=False, standalone_mode=False)


def test_committed_schemas_and_reference_are_up_to_date() -> None:
    """Regenerate with: grade schema --output docs/schema && grade schema --markdown --output docs/yaml-reference.md"""
    for kind, name in schemadoc.SCHEMA_FILES.items():
        assert (ROOT / "docs" / "schema" / name).read_text() == schemadoc.json_text(kind), name
    reference = (ROOT / "docs" / "yaml-reference.md").read_text()
    assert reference == schemadoc.markdown()
    for key in ("`modifies`", "`check_grad_flags`", "`variant`", "`randint`", "`format`", "`numpy`"):
        assert key in reference


def test_every_exercise_file_points_editors_at_the_schema() -> None:
    line = "# yaml-language-server: $schema=../docs/schema/exercise.schema.json"
    fixed = {"exercise1", "exercise2", "exercise3", "exercise4"}  # the contract's four, kept as they were
    for ex_id in [e for e in CourseDir.open(ROOT).exercise_ids if e not in fixed]:
        assert (ROOT / "exercises" / f"{ex_id}.yaml").read_text().splitlines()[0] == line, ex_id
    assert (ROOT / "course.yaml").read_text().startswith("# yaml-language-server: $schema=docs/schema/")


# ---------------------------------------------------------------- grade new

def test_new_scaffolds_an_exercise_that_passes_check(tiny: CourseDir) -> None:
    made = scaffold(tiny, None, "Softmax: scores to probabilities")
    assert made.ex_id == "exercise2"
    text = tiny.course_file.read_text()
    assert text == COURSE_YAML.replace("  - exercise1   # the first one\n",
                                       "  - exercise1   # the first one\n  - exercise2\n")
    assert load_model(made.exercise_file, Exercise).title == "Softmax: scores to probabilities"
    reopened = CourseDir.open(tiny.root)
    assert reopened.exercise_ids == ["exercise1", "exercise2"]
    result = check_exercise(reopened, "exercise2", ("cpu", "meta"))
    assert result.problems == []
    assert result.solution is not None and result.solution.full_marks
    assert result.stub is not None and result.stub.score == 0
    assert result.variant is not None and result.variant.full_marks


def test_new_takes_numbers_and_never_overwrites(tiny: CourseDir) -> None:
    assert scaffold(tiny, "ex7").ex_id == "exercise7"
    course = CourseDir.open(tiny.root)
    with pytest.raises(UsageError, match=r"exercise7 is already in \S*course.yaml"):
        scaffold(course, "7")
    (tiny.root / "solutions" / "exercise8.py").write_text("# mine\n")
    with pytest.raises(UsageError, match="already exists; grade new never overwrites"):
        scaffold(course, "exercise8")
    assert (tiny.root / "solutions" / "exercise8.py").read_text() == "# mine\n"
    assert not (tiny.root / "exercises" / "exercise8.yaml").exists()
    with pytest.raises(UsageError, match="cannot be an exercise id"):
        scaffold(course, "my exercise")


def test_new_adds_to_a_flow_style_list(tmp_path: Path) -> None:
    (tmp_path / "course.yaml").write_text("format_version: 1\ntitle: T\nexercises: [exercise1]  # all\n")
    write_exercise(tmp_path, "exercise1")
    scaffold(CourseDir.open(tmp_path), None)
    assert (tmp_path / "course.yaml").read_text().endswith("exercises: [exercise1, exercise2]  # all\n")


def test_new_on_the_command_line(tiny: CourseDir) -> None:
    result = CliRunner().invoke(cli, ["new", "3", "--title", "Three", "--course", str(tiny.root)])
    assert result.exit_code == 0, result.output
    assert "created exercises/exercise3.yaml" in result.output or "exercise3.yaml" in result.output
    assert CourseDir.open(tiny.root).exercise_ids == ["exercise1", "exercise3"]


# ---------------------------------------------------------------- grade check

BAD_EXPECTED = EXERCISE_TEMPLATE.format(schema_line="", title="t", ex_id="x").replace(
    "expected: [2.0, 4.0, 6.0]", "expected: [2.0, 4.0, 7.0]")
ONE_HINT = EXERCISE_TEMPLATE.format(schema_line="", title="t", ex_id="x").replace(
    '      - "A second, more concrete one: multiplying a tensor by a number scales every entry."\n', "")
DUPLICATE = EXERCISE_TEMPLATE.format(schema_line="", title="t", ex_id="x") + \
    EXERCISE_TEMPLATE.format(schema_line="", title="t", ex_id="x").split("tasks:\n", 1)[1]
CPU_ONLY = SOLUTION_TEMPLATE.format(ex_id="x", title="t").replace("return 2 * x", "return 2 * x.cpu()")
QUIZ = """\
format_version: 1
title: A quiz whose stub already holds the answer
text: The placeholder is the answer.
tasks:
  - name: q1
    kind: answer
    answer_form: value
    reference: same
    placeholder: "7"
    doc: "What is {x}?"
    hints: ["It is {x}.", "Really."]
    cases:
      - args: {x: 7}
"""
LOOSE = EXERCISE_TEMPLATE.format(schema_line="", title="t", ex_id="x").replace("    points: 1\n",
                                                                              "    points: 1\n    rtol: 1.0\n")
STALE = EXERCISE_TEMPLATE.format(schema_line="", title="t", ex_id="x").replace(
    "    points: 1\n", "    points: 1\n    probes_exempt: {constant: a constant is right here}\n")
QUOTING_HINT = EXERCISE_TEMPLATE.format(schema_line="", title="t", ex_id="x").replace(
    "A first nudge, shown by `grade hint x`.", "Write return torch.mul(x,  2.0) and you are done.")
MUL_SOLUTION = SOLUTION_TEMPLATE.format(ex_id="x", title="t").replace("return 2 * x", "return torch.mul(x, 2.0)")
VARIANT_BREAKS = EXERCISE_TEMPLATE.format(schema_line="", title="t", ex_id="x").replace(
    "shape: [{randint: [1, 6]}, 4]", "shape: [5]")


@pytest.mark.parametrize(("yaml_text", "solution", "message"), [
    (BAD_EXPECTED, None, "exercise1.yaml:19: tasks[0].cases[0].expected: the written value [2.0, 4.0, 7.0] disagrees "
                         "with the reference solution"),
    (ONE_HINT, None, "exercise1.yaml:13: tasks[0].hints: double has 1 hint(s); write at least 2"),
    (DUPLICATE, None, "tasks[0] and tasks[1] are both named 'double'"),
    (QUOTING_HINT, MUL_SOLUTION, "exercise1.yaml:14: tasks[0].hints[0]: the first hint of double quotes the reference "
                                 "solution (torch.mul(x,2.0)); start from the idea, then the approach, and keep code "
                                 "for a later hint"),
    (None, CPU_ONLY, "double does not get full marks: [exception] on meta"),
    (QUIZ, "def same(x):\n    return x\n", "the unedited stub scores 1 (tasks: q1); it must score 0"),
    (VARIANT_BREAKS, SOLUTION_TEMPLATE.format(ex_id="x", title="t").replace("return 2 * x", "return 2 * x.view(-1, 4)"),
     "raised RuntimeError"),
    (LOOSE, None, "exercise1.yaml:8: tasks[0]: double passes with a wrong answer (returning its input `x` "
                  "unchanged); add a case or rule that fails it, or exempt it with `probes_exempt: {input: why}`"),
    (LOOSE, None, "double passes with a wrong answer (returning zeros_like of the expected result)"),
    (STALE, None, "exercise1.yaml:8: tasks[0]: double exempts the probe 'constant', which fails it anyway (or does "
                  "not apply); remove it from `probes_exempt`"),
    (None, "import torch\n\ndef double(x):\n    return 2 * x / (x - x)\n",
     "solutions/exercise1.py: the reference double returns NaN or inf on case 1 of task double (x=tensor of shape "
     "(3,), float32)"),
    (None, "import torch\n\ndef double(x):\n    return (2 * x).numpy()\n",
     "solutions/exercise1.py: the reference double returns a numpy.ndarray, not a tensor; return "
     "torch.from_numpy(...) of it on case 1 of task double"),
], ids=["expected disagrees", "one hint", "duplicate task names", "first hint quotes the reference",
        "fails on a device", "stub scores", "variant breaks the reference", "probe input passes", "probe zeros passes",
        "stale probe exemption", "reference returns inf", "reference returns an ndarray"])
def test_check_reports(tiny: CourseDir, yaml_text: str | None, solution: str | None, message: str) -> None:
    write_exercise(tiny.root, "exercise1", yaml_text, solution)
    problems = check_exercise(CourseDir.open(tiny.root), "exercise1", ("cpu", "meta")).problems
    assert any(message in p for p in problems), problems


def test_a_probe_exempted_with_a_reason_is_not_reported(tiny: CourseDir) -> None:
    exempt = LOOSE.replace("    rtol: 1.0\n", "    rtol: 1.0\n    probes_exempt: {input: a, zeros: b}\n")
    write_exercise(tiny.root, "exercise1", exempt)
    problems = check_exercise(CourseDir.open(tiny.root), "exercise1", ("cpu",)).problems
    assert not [p for p in problems if "probe" in p], problems
    with pytest.raises(ConfigError, match=r"probes_exempt.input: must not be empty"):
        write_exercise(tiny.root, "exercise1", exempt.replace("input: a,", "input: '',"))
        load_model(tiny.root / "exercises" / "exercise1.yaml", Exercise)


def test_check_reports_layout_problems(tiny: CourseDir) -> None:
    write_exercise(tiny.root, "exercise9")  # files, but not in course.yaml
    (tiny.root / "solutions" / "exercise5.py").write_text("")  # a stray solution
    tiny.course_file.write_text(COURSE_YAML + "  - exercise4\n")  # listed, no files
    course = CourseDir.open(tiny.root)
    layout = [str(p) for p in course.check_layout()] + _stray_solutions(course)
    text = "\n".join(layout)
    assert "'exercise4' is listed but exercises/exercise4.yaml does not exist" in text
    assert "exercise9.yaml: not listed in course.yaml" in text
    assert "exercise5.py: not listed in course.yaml" in text


def test_grade_check_command_fails_with_located_problems(tiny: CourseDir) -> None:
    write_exercise(tiny.root, "exercise1", BAD_EXPECTED)
    write_exercise(tiny.root, "exercise2")
    proc = run_grade("check", "--devices", "cpu,meta", cwd=tiny.root, env=PROCESS_MODE)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = " ".join(proc.stdout.split())
    assert "disagrees with the reference" in out and "exercise2.yaml: not listed in course.yaml" in out
    assert "problem(s) found" in out and "Traceback" not in proc.stderr


def test_grade_check_json_says_the_same_for_scripts(tiny: CourseDir, monkeypatch: pytest.MonkeyPatch) -> None:
    """`grade check --format json`: the documented shape on stdout (nothing else), same exit code."""
    write_exercise(tiny.root, "exercise1", BAD_EXPECTED)
    write_exercise(tiny.root, "exercise2")
    monkeypatch.setenv("GRADER_ISOLATION", "process")
    monkeypatch.chdir(tiny.root)
    result = CliRunner().invoke(cli, ["check", "--devices", "cpu", "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"version", "course", "devices", "ok", "exit_code", "problems", "exercises", "problem_count"}
    assert (data["version"], data["course"], data["devices"], data["ok"], data["exit_code"]) == \
           (1, "Tiny course", ["cpu"], False, 1)
    assert data["problems"] == ["exercises/exercise2.yaml: not listed in course.yaml; add 'exercise2' to its exercises",
                                "solutions/exercise2.py: not listed in course.yaml; add 'exercise2' to its exercises "
                                "or remove the file"]
    (ex1,) = data["exercises"]
    full = {"score": 1.0, "max_score": 1.0}
    assert (ex1["exercise"], ex1["loaded"], ex1["solution"], ex1["stub"], ex1["variant"]) == \
           ("exercise1", True, full, {"score": 0.0, "max_score": 1.0}, full)
    assert len(ex1["problems"]) == 1 and "disagrees with the reference solution" in ex1["problems"][0]
    assert data["problem_count"] == len(data["problems"]) + 1


def test_grade_check_checks_only_the_exercises_named(tiny: CourseDir) -> None:
    write_exercise(tiny.root, "exercise1", BAD_EXPECTED)
    write_exercise(tiny.root, "exercise2")
    tiny.course_file.write_text(COURSE_YAML + "  - exercise2\n")
    proc = run_grade("check", "ex2", "--devices", "cpu", cwd=tiny.root, env=PROCESS_MODE)
    out = " ".join(proc.stdout.split())
    assert proc.returncode == 0, out + proc.stderr
    assert "exercise2 is consistent" in out and "exercise1" not in out


def test_grade_check_exits_2_on_an_exercise_file_it_cannot_load(tiny: CourseDir) -> None:
    """A broken YAML is a configuration error (exit 2, as for `grade exercise1`), reported once."""
    (tiny.root / "exercises" / "exercise1.yaml").write_text("format_version: 1\ntitle: [unclosed\n")
    proc = run_grade("check", "--devices", "cpu", cwd=tiny.root, env=PROCESS_MODE)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    out = " ".join(proc.stdout.split())
    assert out.count("invalid YAML") == 1 and "exercises/exercise1.yaml:3: invalid YAML" in out
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(("reference", "written", "problem"), [
    ((1.65202,), [1.652], ""),
    ((1.65202,), [1.66], "the reference gives 1.65202 at [0]"),
    ([1, 2], [1, 2, 3], "the reference gives 2 items"),
    ("error", "error", ""),
    (7, 7.0, "the reference gives 7"),
])
def test_written_expected_values_are_compared_with_tolerance(reference: object, written: object,
                                                              problem: str) -> None:
    assert _disagreement(reference, written) == problem


def test_a_solution_error_in_check_is_reported_not_raised(tiny: CourseDir) -> None:
    write_exercise(tiny.root, "exercise1", solution="def double(x):\n    raise ValueError('oops')\n")
    problems = check_exercise(CourseDir.open(tiny.root), "exercise1", ("cpu",)).problems
    assert any("double raised ValueError: oops" in p for p in problems), problems
    with pytest.raises(ConfigError):
        (tiny.root / "exercises" / "exercise1.yaml").write_text("format_version: 1\ntitle: t\n")
        load_model(tiny.root / "exercises" / "exercise1.yaml", Exercise)


def test_a_broken_exercise_file_does_not_lock_students_out_of_the_others(tiny: CourseDir) -> None:
    """`grade list` lists the others and `grade all` grades them; the broken one is named (exit 2)."""
    tiny.course_file.write_text(COURSE_YAML + "  - exercise2\n")
    (tiny.root / "exercises" / "exercise2.yaml").write_text("format_version: 1\ntitle: [unclosed\n")
    (tiny.root / "solutions" / "exercise2.py").write_text("")
    message = "exercises/exercise2.yaml:3: invalid YAML: expected ',' or ']', but got '<stream end>'"
    listed = run_grade("list", cwd=tiny.root, env=PROCESS_MODE)
    assert listed.returncode == 2 and "Traceback" not in listed.stderr, listed.stderr
    assert "exercise1" in listed.stdout and "cannot be loaded" in listed.stdout
    assert listed.stderr.strip() == f"exercise2 cannot be loaded: {message}"
    graded = run_grade("all", "--devices", "cpu", "--format", "json", cwd=tiny.root, env=PROCESS_MODE)
    assert graded.returncode == 2 and f"exercise2 not graded: {message}" in graded.stderr, graded.stderr
    report = json.loads(graded.stdout)
    assert [e["exercise"] for e in report["exercises"]] == ["exercise1"] and report["max_score"] == 1.0
