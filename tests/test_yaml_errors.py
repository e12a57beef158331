"""A broken course file gives exactly one located message and exit code 2.

Each row is (broken file content, exact message on stderr). The real CLI runs in a
temporary course made of a small course.yaml and two small exercises (a function task
and a quiz question), with one file broken; nothing may reach stdout, and no traceback.
Messages name file:line, the key as the author wrote it, and what to do.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, run_grade

COURSE = """\
format_version: 1
title: Test course
exercises:
  - exercise1
  - exercise2
"""

EXERCISE1 = """\
format_version: 1
title: Cubes
text: The gradient of a sum of cubes.
tasks:
  - name: cube_grad
    signature: "(x: torch.Tensor) -> torch.Tensor"
    doc: Return d/dx of (x ** 3).sum().
    points: 3
    rules:
      - kind: require_autograd
    hints:
      - Make a leaf.
      - Call backward.
    cases:
      - args: {x: {tensor: [1.0, 2.0]}}
      - args: {x: {random: randn, shape: [3]}}
        hidden: true
"""

EXERCISE2 = """\
format_version: 1
title: Shapes
text: Broadcast shapes.
imports: []
tasks:
  - name: q1
    kind: answer
    reference: broadcast_result
    doc: "Shapes {shapes}."
    hints: [Right-align them., Compare columns.]
    cases:
      - args: {shapes: [[2, 1], [3]]}
"""

C, E1, E2 = "course.yaml", "exercises/exercise1.yaml", "exercises/exercise2.yaml"
FIRST_TASK = EXERCISE1[EXERCISE1.index("  - name"):]


@dataclass(frozen=True)
class Broken:
    id: str
    file: str | None
    content: str | bytes | None
    message: str
    args: tuple[str, ...] = ("exercise1",)


CASES = [
    Broken("negative points", E1, EXERCISE1.replace("points: 3", "points: -3"),
           "exercises/exercise1.yaml:8: tasks[0].points: must be >= 0"),
    Broken("misspelt key", E1, EXERCISE1.replace("    hints:", "    hint:"),
           "exercises/exercise1.yaml:11: tasks[0].hint: unknown key; did you mean 'hints'?"),
    Broken("missing required key", E1, EXERCISE1.replace("    doc: Return d/dx of (x ** 3).sum().\n", ""),
           "exercises/exercise1.yaml:5: tasks[0].doc: is required; add it"),
    Broken("wrong type", E1, EXERCISE1.replace("points: 3", "points: three"),
           "exercises/exercise1.yaml:8: tasks[0].points: must be a number (got 'three')"),
    Broken("unknown rule kind", E1, EXERCISE1.replace("kind: require_autograd", "kind: require_autograds"),
           "exercises/exercise1.yaml:10: tasks[0].rules[0].kind: must be one of 'require_autograd', 'forbid_calls', "
           "'gradients_flow', 'require_calls', 'created_on', 'shares_memory', 'max_torch_ops', 'stay_in_torch' "
           "(got 'require_autograds'); "
           "did you mean 'require_autograd'?"),
    Broken("rule without kind", E1, EXERCISE1.replace("      - kind: require_autograd", "      - feedback: hi"),
           "exercises/exercise1.yaml:10: tasks[0].rules[0].kind: is required; add it"),
    Broken("invalid YAML syntax", E1, EXERCISE1.replace("[1.0, 2.0]}}", "[1.0, 2.0}}"),
           "exercises/exercise1.yaml:15: invalid YAML: expected ',' or ']', but got '}'"),
    Broken("duplicate key", E1, EXERCISE1.replace("    points: 3\n", "    points: 3\n    points: 4\n"),
           "exercises/exercise1.yaml:9: invalid YAML: duplicate key 'points'"),
    Broken("tab", E1, EXERCISE1.replace("    points: 3", "\tpoints: 3"),
           "exercises/exercise1.yaml:8: invalid YAML: a tab character; YAML is indented with spaces only"),
    Broken("alias", E1, EXERCISE1.replace("- Make a leaf.", "- &leaf Make a leaf.").replace("- Call backward.", "- *leaf"),
           "exercises/exercise1.yaml:13: invalid YAML: aliases (*name) are not allowed in course files; "
           "write the value out"),
    Broken("python tag", E1, EXERCISE1.replace("title: Cubes", "title: !!python/object/apply:os.system [echo hi]"),
           "exercises/exercise1.yaml:2: invalid YAML: tags such as !!python/object/apply:os.system are not allowed "
           "in course files; write plain values"),
    Broken("custom tag", E1, EXERCISE1.replace("title: Cubes", "title: !include other.yaml"),
           "exercises/exercise1.yaml:2: invalid YAML: tags such as !include are not allowed in course files; "
           "write plain values"),
    Broken("empty file", E1, "",
           "exercises/exercise1.yaml:1: the file is empty; write its keys (format_version, title, text, tasks)"),
    Broken("comments only", E1, "# to do\n",
           "exercises/exercise1.yaml:1: the file is empty; write its keys (format_version, title, text, tasks)"),
    Broken("list at the top", E1, "- name: cube_grad\n- name: cube_second_grad\n",
           "exercises/exercise1.yaml:1: the top level must be a mapping of keys "
           "(format_version, title, text, tasks), not a list"),
    Broken("not UTF-8", E1, EXERCISE1.replace("Cubes", "Cub\xe9s").encode("latin-1"),
           "exercises/exercise1.yaml: not UTF-8 text (invalid continuation byte at byte 28); save the file as UTF-8"),
    Broken("bad signature", E1, EXERCISE1.replace('"(x: torch.Tensor) -> torch.Tensor"', '"(x: torch.Tensor -> int"'),
           "exercises/exercise1.yaml:6: tasks[0].signature: not a valid signature (invalid syntax); "
           "write it like '(x: torch.Tensor) -> torch.Tensor'"),
    Broken("duplicate task names", E1, EXERCISE1 + FIRST_TASK,
           "exercises/exercise1.yaml:4: tasks: tasks[0] and tasks[1] are both named 'cube_grad'; "
           "task names must be unique"),
    Broken("argument that is not a parameter", E1, EXERCISE1.replace("{x: {tensor", "{y: {tensor"),
           "exercises/exercise1.yaml:15: tasks[0].cases[0].args.y: not a parameter of "
           "cube_grad(x: torch.Tensor) -> torch.Tensor; its parameters are x"),
    Broken("NumPy's axis for torch's dim", E1, EXERCISE1.replace(
        '"(x: torch.Tensor) -> torch.Tensor"', '"(x: torch.Tensor, dim: int = 0) -> torch.Tensor"').replace(
        "      - args: {x: {random: randn, shape: [3]}}", "      - args: {x: {random: randn, shape: [3]}, axis: 0}"),
           "exercises/exercise1.yaml:16: tasks[0].cases[1].args.axis: not a parameter of "
           "cube_grad(x: torch.Tensor, dim: int = 0) -> torch.Tensor; did you mean 'dim'?"),
    Broken("misspelt argument in a variant", E1, EXERCISE1.replace(
        "        hidden: true", "        hidden: true\n        variant: {xs: {random: randn, shape: [4]}}"),
           "exercises/exercise1.yaml:18: tasks[0].cases[1].variant.xs: not a parameter of "
           "cube_grad(x: torch.Tensor) -> torch.Tensor; did you mean 'x'?"),
    Broken("key indented too far", E1, EXERCISE1.replace("    doc: Return", "      doc: Return"),
           "exercises/exercise1.yaml:7: invalid YAML: check the indentation of line 7: it does not line up with "
           "the keys (or the '- ' items) it belongs with; YAML nests by indentation, with spaces"),
    Broken("list item indented too little", E1, EXERCISE1.replace("      - Call backward.", "    - Call backward."),
           "exercises/exercise1.yaml:13: invalid YAML: check the indentation of line 13: it does not line up with "
           "the keys (or the '- ' items) it belongs with; YAML nests by indentation, with spaces"),
    Broken("top-level key indented", E1, EXERCISE1.replace("title: Cubes", "  title: Cubes"),
           "exercises/exercise1.yaml:2: invalid YAML: check the indentation of line 2 (a key indented deeper than "
           "the one above it), or put quotes around a value that contains ': '"),
    Broken("misspelt value kind", E1, EXERCISE1.replace("random: randn", "random: randm"),
           "exercises/exercise1.yaml:16: tasks[0].cases[1].args.x.random: must be one of 'randn', 'rand' or "
           "'randint' (got 'randm'); did you mean 'rand'?"),
    Broken("unknown dtype inside a value", E1, EXERCISE1.replace("shape: [3]}", "shape: [3], dtype: float23}"),
           "exercises/exercise1.yaml:16: tasks[0].cases[1].args.x.dtype: must be one of 'float16', 'bfloat16', "
           "'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool' or 'complex64' "
           "(got 'float23'); did you mean 'float32'?"),
    Broken("no cases", E1, EXERCISE1[:EXERCISE1.index("    cases:")] + "    cases: []\n",
           "exercises/exercise1.yaml:14: tasks[0].cases: must have at least 1 item(s)"),
    Broken("answer task with two cases", E2, EXERCISE2 + "      - args: {shapes: [[2], [2]]}\n",
           "exercises/exercise2.yaml:6: tasks[0]: an answer task takes exactly one case (the arguments of its question)",
           args=("exercise2",)),
    Broken("unknown exercise id in course.yaml", C, COURSE + "  - exercise99\n",
           "course.yaml:6: exercises[2]: exercises/exercise99.yaml does not exist; "
           "create it, or remove 'exercise99' from the list", args=("hint", "exercise99")),
    Broken("misspelt exercise id in course.yaml", C, COURSE.replace("  - exercise2", "  - exercse2"),
           "course.yaml:5: exercises[1]: exercises/exercse2.yaml does not exist; did you mean 'exercise2'?",
           args=("exercse2",)),
    Broken("exercise id listed twice", C, COURSE + "  - exercise1\n",
           "course.yaml:3: exercises: 'exercise1' is listed twice", args=("list",)),
    Broken("format version", C, COURSE.replace("format_version: 1", "format_version: 2"),
           "course.yaml:1: format_version: must be one of 1 (got 2)", args=("check",)),
    Broken("zero timeout", C, COURSE.replace("exercises:", "defaults:\n  timeout: 0\nexercises:"),
           "course.yaml:4: defaults.timeout: must be > 0", args=("hint", "exercise1")),
    Broken("infinite timeout", C, COURSE.replace("exercises:", "defaults:\n  timeout: .inf\nexercises:"),
           "course.yaml:4: defaults.timeout: must be a finite number", args=("hint", "exercise1")),
    Broken("timeout over an hour", E1, EXERCISE1.replace("    points: 3", "    points: 3\n    timeout: 7200"),
           "exercises/exercise1.yaml:9: tasks[0].timeout: must be <= 3600"),
    Broken("deadline without a timezone", C, COURSE + "deadline: 2025-03-01 23:59:00\n",
           "course.yaml:6: deadline: has no timezone; add its offset from UTC, e.g. 2025-03-01T23:59:00+01:00 "
           "(Z for UTC) (got '2025-03-01T23:59:00')", args=("hint", "exercise1")),
    Broken("deadline that is a date alone", C, COURSE + "deadlines:\n  exercise2: 2025-03-01\n",
           "course.yaml:7: deadlines.exercise2: a date alone has no time or timezone; write e.g. "
           "2025-03-01T23:59:00+01:00 (Z for UTC)", args=("list",)),
    Broken("deadline that is not a date", C, COURSE + "deadline: next friday\n",
           "course.yaml:6: deadline: must be a date and time with its timezone, e.g. 2025-03-01T23:59:00+01:00 "
           "(Z for UTC) (got 'next friday')", args=("list",)),
    Broken("deadline that is a number", C, COURSE + "deadline: 1740869940\n",
           "course.yaml:6: deadline: must be a date and time with its timezone, e.g. 2025-03-01T23:59:00+01:00 "
           "(Z for UTC) (got 1740869940)", args=("list",)),
    Broken("deadline on a day that does not exist", C, COURSE + "deadline: 2025-02-30T23:59:00+01:00\n",
           "course.yaml:6: invalid YAML: this date cannot be read (day is out of range for month)", args=("list",)),
    Broken("deadline of an exercise not in the course", C,
           COURSE + "deadlines:\n  exercise1: 2025-03-01T23:59:00Z\n  exercse2: 2025-03-01T23:59:00Z\n",
           "course.yaml:8: deadlines.exercse2: 'exercse2' is not one of the course's exercises; "
           "did you mean 'exercise2'?", args=("list",)),
    Broken("misspelt exercise on the command line", None, None,
           "error: no exercise 'exercse1' in course.yaml; did you mean 'exercise1'?", args=("exercse1",)),
]


@pytest.fixture
def course(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    (root / "exercises").mkdir(parents=True)
    (root / "solutions").mkdir()
    (root / C).write_text(COURSE, encoding="utf-8")
    (root / E1).write_text(EXERCISE1, encoding="utf-8")
    (root / E2).write_text(EXERCISE2, encoding="utf-8")
    shutil.copy(ROOT / "solutions" / "exercise3.py", root / "solutions" / "exercise1.py")
    shutil.copy(ROOT / "solutions" / "exercise2.py", root / "solutions" / "exercise2.py")
    return root


def test_the_unbroken_course_is_valid(course: Path) -> None:
    """The baseline every row breaks: without the break, the same command succeeds."""
    proc = run_grade("list", cwd=course)
    assert proc.returncode == 0, proc.stderr
    assert "Cubes" in proc.stdout and "Shapes" in proc.stdout
    assert proc.stderr == ""


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_file_gives_one_located_message(case: Broken, course: Path) -> None:
    if case.file is not None:
        target = course / case.file
        if isinstance(case.content, bytes):
            target.write_bytes(case.content)
        else:
            target.write_text(case.content or "", encoding="utf-8")
    proc = run_grade(*case.args, cwd=course)
    assert (proc.returncode, proc.stderr, proc.stdout) == (2, case.message + "\n", "")
    assert not (course / "workspace").exists(), "nothing is rendered from a broken course"
