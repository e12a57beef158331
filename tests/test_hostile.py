"""Hostile submissions cannot change their grade or take the grader down (issue 5).

Each file in tests/hostile/ is one attack. Its docstring says what it does and,
as `key: value` lines, what the grader must report:

    exercise: exercise3
    score: 3                          the exact score (0, or the correct partial score)
    status: cube_grad=passed ...      each listed task's status
    feedback: task ~ text | other     the task's feedback contains one of the texts (any case)
    output: text                      the captured output contains the text
    needs: sandbox                    only the bubblewrap sandbox defends this (process mode
                                      cannot hide the course: README, "Trust model")
    needs: containment                the sandbox, or process mode with namespaces (as root)
    needs: own-uid                    the sandbox, or process mode with namespaces or a uid of its own
                                      (root, even without CAP_SYS_ADMIN: tests/container.py)
    timeout: 2                        seconds per task (default 3)
    cli: yes                          also graded by the real `grade` command
    absent: text                      no task's feedback (hidden cases' included) contains the text
    silent: text                      the captured output does not contain the text

Every submission is graded in-process in both isolation modes (the sandbox is
skipped, with the reason, where bubblewrap is missing). Each grading must give a
valid report, with feedback in words for every task that did not pass, and leave
no process behind. Timings are recorded as test properties (no timed asserts);
`benchmarks/hostile.py` prints them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, course_with_defaults

from grader.boundary import confine, sandbox
from grader.course import CourseDir
from grader.errors import ConfigError
from grader.grading import GradeOptions, grade_source, reference_submission
from grader.loader import MAX_YAML_BYTES, load_model
from grader.results import STATUSES
from grader.schema import Course, Exercise

HOSTILE = Path(__file__).resolve().parent / "hostile"
JOB_UIDS = confine.JOB_UIDS


@dataclass
class Case:
    path: Path
    exercise: str = ""
    score: float = 0.0
    status: dict[str, str] = field(default_factory=dict)
    feedback: list[tuple[str, list[str]]] = field(default_factory=list)
    output: list[str] = field(default_factory=list)
    needs: str = ""
    timeout: float = 3.0
    cli: bool = False
    absent: list[str] = field(default_factory=list)
    silent: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")


def parse_case(path: Path) -> Case:
    text = path.read_text(encoding="utf-8")
    doc = re.match(r'\s*"""(.*?)"""', text, re.S)
    assert doc, f"{path.name}: no module docstring"
    case = Case(path)
    for line in doc.group(1).splitlines():
        m = re.fullmatch(r"(exercise|score|status|feedback|output|needs|timeout|cli|absent|silent): (.+)", line.strip())
        if not m:
            continue
        key, value = m.groups()
        if key == "exercise":
            case.exercise = value
        elif key == "score":
            case.score = float(value)
        elif key == "status":
            case.status = dict(item.split("=", 1) for item in value.split())
        elif key == "feedback":
            task, _, texts = value.partition("~")
            case.feedback.append((task.strip(), [t.strip() for t in texts.split("|")]))
        elif key == "output":
            case.output.append(value)
        elif key == "needs":
            case.needs = value
        elif key == "timeout":
            case.timeout = float(value)
        elif key == "cli":
            case.cli = value == "yes"
        elif key == "absent":
            case.absent.append(value)
        elif key == "silent":
            case.silent.append(value)
    assert case.exercise, f"{path.name}: no 'exercise:' line in the docstring"
    return case


CASES = [parse_case(p) for p in sorted(HOSTILE.glob("*.py"))]


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> CourseDir:
    """The real course with shorter time limits (an import that never ends costs 6 s, not 10)."""
    return CourseDir(course_with_defaults(tmp_path_factory.mktemp("course"), timeout=3, import_timeout=6))


@pytest.fixture(scope="module")
def sandbox_launcher(course: CourseDir) -> Any:
    if sandbox.bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed: the sandbox cannot be tested here")
    launcher = sandbox.SandboxLauncher()
    report = grade_source(CourseDir(ROOT), "exercise3", "", "exercise3.py", GradeOptions(devices=("cpu",)), launcher)
    if launcher.fallback_reason:
        launcher.close()
        pytest.skip(f"bubblewrap is installed but its sandbox does not start here: {launcher.fallback_reason}")
    assert report.isolation == "bwrap"
    yield launcher
    launcher.close()


@pytest.fixture(scope="module")
def process_launcher() -> sandbox.ForkLauncher:
    return sandbox.ForkLauncher()


@pytest.fixture(scope="module")
def process_walls(course: CourseDir, process_launcher: sandbox.ForkLauncher) -> dict[str, bool]:
    """What process mode gives each child here: PID and network namespaces of its own
    (`contained`), and a uid other than the grader's or a read-only view (`own_uid`)."""
    probe = "import os\nprint('pid', os.getpid(), 'uid', os.getuid())\n"
    report = grade_source(course, "exercise3", probe, "exercise3.py", GradeOptions(devices=("cpu",)),
                          process_launcher)
    contained = "pid 1 " in report.output
    return {"contained": contained, "own_uid": contained or f"uid {os.getuid()}\n" not in report.output}


def launcher_for(request: pytest.FixtureRequest, mode: str, case: Case) -> Any:
    launcher = request.getfixturevalue(f"{mode}_launcher")
    if mode == "process" and case.needs == "sandbox":
        pytest.skip("process mode cannot hide the course from the child (README, trust model); only the "
                    "sandbox defends this")
    walls = request.getfixturevalue("process_walls") if mode == "process" else {}
    if mode == "process" and case.needs == "containment" and not walls["contained"]:
        pytest.skip("process mode has no namespaces here (neither CAP_SYS_ADMIN nor user namespaces); only the sandbox "
                    "defends this")
    if mode == "process" and case.needs == "own-uid" and not walls["own_uid"]:
        pytest.skip("process mode runs the child as the grader's own user here (not root, no user "
                    "namespaces): it can write what the grader can")
    return launcher


# ------------------------------------------------------------------ checks

def descendants(exclude: set[int]) -> list[Any]:
    import psutil

    found = []
    for proc in psutil.Process().children(recursive=True):
        if proc.pid in exclude:
            continue
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                os.waitpid(proc.pid, os.WNOHANG)  # an orphan re-parented to us (we are a subreaper)
                continue
        except (psutil.Error, ChildProcessError):
            continue
        found.append(proc)
    for proc in psutil.process_iter(["uids"]):
        try:
            if proc.info["uids"] and proc.info["uids"].real in JOB_UIDS and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def assert_no_leftovers(before: set[int], helpers: set[int]) -> None:
    """No process of the job survives it: none below us, none under a job uid anywhere."""
    deadline = time.monotonic() + 20.0  # a killed fork bomb of big processes takes a while to tear down
    while True:
        left = [p for p in descendants(helpers) if p.pid not in before]
        if not left:
            return
        if time.monotonic() > deadline:
            described = []
            for p in left:
                try:
                    described.append(f"{p.pid} {p.name()} {p.status()}")
                except Exception:  # noqa: BLE001
                    described.append(str(p.pid))
            pytest.fail(f"processes left behind: {described}")
        time.sleep(0.05)


def check_report(data: dict[str, Any], case: Case) -> None:
    assert data["version"] == 1 and data["exercise"] == case.exercise
    tasks = {t["name"]: t for t in data["tasks"]}
    for t in data["tasks"]:
        assert t["status"] in STATUSES
        assert all(s in STATUSES for s in t["devices"].values())
        assert t["score"] == (t["max_score"] if t["status"] == "passed" else 0.0)
        if t["status"] != "passed":
            assert t["feedback"].strip(), f"{t['name']}: {t['status']} without feedback"
            assert "Traceback" not in t["feedback"] and "grader/" not in t["feedback"], t["feedback"]
    assert data["score"] == sum(t["score"] for t in data["tasks"])
    summary = {name: (t["status"], t["feedback"][:300]) for name, t in tasks.items()}
    assert data["score"] == case.score, summary
    for name, status in case.status.items():
        assert tasks[name]["status"] == status, (name, summary[name])
    for name, texts in case.feedback:
        feedback = tasks[name]["feedback"].lower()
        assert any(t.lower() in feedback for t in texts), (name, texts, tasks[name]["feedback"])
    for text in case.output:
        assert text in data["output"], (text, data["output"][-500:])
    for text in case.silent:
        assert text not in data["output"], (text, data["output"][-500:])
    for text in case.absent:
        for t in data["tasks"]:
            assert text not in t["feedback"] + (t.get("hidden") or {}).get("feedback", ""), (text, t)


def helper_pids() -> set[int]:
    """The sandboxes' own long-lived processes (bwrap, the zygote): not left-overs."""
    pids: set[int] = set()
    for launcher in list(sandbox._INSTANCES):
        pids |= launcher.helper_pids()
    return pids


# ------------------------------------------------------------------ the suite

@pytest.mark.container
@pytest.mark.timeout(240)
@pytest.mark.parametrize("mode", ["sandbox", "process"])
@pytest.mark.parametrize("case", CASES, ids=[c.path.stem for c in CASES])
def test_hostile_submission(case: Case, mode: str, course: CourseDir, request: pytest.FixtureRequest,
                            record_property: Any) -> None:
    launcher = launcher_for(request, mode, case)
    helpers = helper_pids()
    before = {p.pid for p in descendants(helpers)}
    started = time.monotonic()
    report = grade_source(course, case.exercise, case.source, f"{case.exercise}.py",
                          GradeOptions(devices=("cpu", "meta"), timeout=case.timeout), launcher)
    record_property("grading_s", round(time.monotonic() - started, 3))
    data = json.loads(json.dumps(report.to_json()))  # plain JSON, nothing else
    assert data["isolation"] == ("bwrap" if mode == "sandbox" else "process")
    check_report(data, case)
    assert_no_leftovers(before, helpers | helper_pids())


def test_enough_hostile_submissions() -> None:
    """The issue asks for at least 30, across exercises 3 and 4."""
    assert len(CASES) >= 30
    assert {"exercise3", "exercise4"} <= {c.exercise for c in CASES}
    assert sum(c.cli for c in CASES) >= 3


CLI_CASES = [c for c in CASES if c.cli]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("case", CLI_CASES, ids=[c.path.stem for c in CLI_CASES])
def test_hostile_submission_cli(case: Case, course: CourseDir, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The real command: exactly one JSON document (the grader's) on stdout, the right exit
    code, nothing left behind. The command starts its own sandbox where bubblewrap works."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    shutil.copy(case.path, workspace / f"{case.exercise}.py")
    helpers = helper_pids()
    before = {p.pid for p in descendants(helpers)}
    proc = subprocess.run([sys.executable, "-m", "grader", case.exercise, "--course", str(course.root),
                           "--workspace", str(workspace), "--format", "json", "--devices", "cpu,meta",
                           "--timeout", str(case.timeout)],
                          capture_output=True, text=True, timeout=240, cwd=tmp_path,
                          env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})
    assert proc.returncode == (0 if case.score == sum_max(course, case.exercise) else 1), proc.stderr[-2000:]
    data = json.loads(proc.stdout)  # exactly one document: json.loads rejects anything after it
    check_report(data, case)
    try:
        request.getfixturevalue("sandbox_launcher")
        works = os.environ.get(sandbox.ISOLATION_ENV, "auto") != "process"
    except pytest.skip.Exception:
        works = False
    assert data["isolation"] == ("bwrap" if works else "process")
    assert "FAKE-REPORT" not in proc.stderr
    assert_no_leftovers(before, helpers)


def sum_max(course: CourseDir, ex_id: str) -> float:
    return course.exercise(ex_id).max_score


# ------------------------------------------------------------------ determinism and independence

def test_same_submission_twice_gives_identical_json(course: CourseDir, request: pytest.FixtureRequest) -> None:
    """Byte-identical reports apart from the timing, in each mode, and the same in both modes."""
    mixed = (HOSTILE / "ex3_analytic_half.py").read_text() + (HOSTILE / "ex3_global_state.py").read_text().split(
        '"""', 2)[2].replace("def cube_grad", "def _unused")
    seen: dict[str, str] = {}
    for mode in ("sandbox", "process"):
        try:
            launcher = request.getfixturevalue(f"{mode}_launcher")
        except pytest.skip.Exception:
            continue
        texts = []
        for _ in range(2):
            data = grade_source(course, "exercise3", mixed, "exercise3.py", GradeOptions(devices=("cpu", "meta")),
                                launcher).to_json()
            data.pop("time_s")
            for task in data["tasks"]:
                task.pop("time_s")
            texts.append(json.dumps(data, sort_keys=True))
        assert texts[0] == texts[1]
        seen[mode] = texts[0].replace('"isolation": "bwrap"', '"isolation": "process"')
    assert len(set(seen.values())) == 1


def test_global_changes_never_reach_the_next_submission(course: CourseDir, request: pytest.FixtureRequest) -> None:
    """A submission that wrecks torch's global state, then an honest one, then the wrecker
    again: the honest one gets full marks and the wrecker the same report both times."""
    launcher = request.getfixturevalue("sandbox_launcher") if sandbox.bwrap_path() else request.getfixturevalue(
        "process_launcher")
    opts = GradeOptions(devices=("cpu", "meta"))
    wrecker = (HOSTILE / "ex3_global_state.py").read_text()
    first = grade_source(course, "exercise3", wrecker, "exercise3.py", opts, launcher)
    honest = grade_source(course, "exercise3", reference_submission(course, "exercise3"), "exercise3.py", opts,
                          launcher)
    again = grade_source(course, "exercise3", wrecker, "exercise3.py", opts, launcher)
    assert honest.score == honest.max_score
    assert [replace(t, seconds=0.0) for t in first.tasks] == [replace(t, seconds=0.0) for t in again.tasks]
    import torch  # and the grader's own process kept its state

    assert torch.get_default_dtype() == torch.float32 and torch.is_grad_enabled()


# ------------------------------------------------------------------ hostile YAML (a fork of the course)

YAML_CASES = [
    ("python_tag", "format_version: 1\ntitle: !!python/object/apply:os.system ['touch {marker}']\n"
                   "exercises: [exercise1]\n", 2, "tags such as"),
    ("python_name", "format_version: 1\ntitle: x\nexercises: !!python/name:os.system\n", 3, "tags such as"),
    ("custom_tag", "format_version: 1\ntitle: !include /etc/passwd\nexercises: [exercise1]\n", 2, "tag"),
    ("billion_laughs", "format_version: 1\ntitle: x\na: &a [x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nexercises: [exercise1]\n", 4, "aliases"),
    ("merge_key", "format_version: 1\nbase: &b {timeout: 1}\ndefaults:\n  <<: *b\ntitle: x\nexercises: [e]\n", 4,
     "aliases"),
    ("deep_nesting", "format_version: 1\ntitle: x\nexercises: " + "[" * 3000 + "]" * 3000 + "\n", 3, "nested"),
    ("huge_integer", "format_version: 1\ntitle: x\ndefaults:\n  timeout: " + "9" * 6000 + "\nexercises: [e]\n", 4,
     "number"),
    ("duplicate_key", "format_version: 1\ntitle: x\ntitle: y\nexercises: [exercise1]\n", 3, "duplicate key"),
    ("nul_byte", "format_version: 1\ntitle: \x00\nexercises: [exercise1]\n", None, "character"),
    ("not_utf8", None, None, "UTF-8"),
    ("too_big", "format_version: 1\ntitle: x\nexercises: [exercise1]\n#" + "x" * MAX_YAML_BYTES + "\n", None,
     "bytes"),
    ("path_in_id", "format_version: 1\ntitle: x\nexercises: ['../../etc/passwd']\n", 3, "not a valid exercise id"),
]


@pytest.mark.parametrize("name, text, line, message", YAML_CASES, ids=[c[0] for c in YAML_CASES])
def test_hostile_course_yaml(name: str, text: str | None, line: int | None, message: str, tmp_path: Path) -> None:
    """Safe loading only: a located error (file, line, what is wrong), no code run, no crash."""
    marker = tmp_path / "pwned"
    path = tmp_path / "course.yaml"
    if text is None:
        path.write_bytes(b"format_version: 1\ntitle: \xff\xfe caf\xe9\nexercises: [exercise1]\n")
    else:
        path.write_text(text.format(marker=marker) if "{marker}" in text else text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_model(path, Course)
    error = info.value
    assert message.lower() in str(error).lower(), str(error)
    if line is not None:
        assert error.line == line, str(error)
    assert len(str(error)) < 400
    assert not marker.exists()


def test_hostile_exercise_yaml_through_the_cli(tmp_path: Path) -> None:
    """Grading on a forked course whose exercise file carries a Python tag: exit code 2,
    one message naming file and line, no traceback, nothing executed."""
    marker = tmp_path / "pwned"
    shutil.copy(ROOT / "course.yaml", tmp_path / "course.yaml")
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    target = tmp_path / "exercises" / "exercise3.yaml"
    text = target.read_text(encoding="utf-8").replace(
        "title: Gradients of x³", f"title: !!python/object/apply:os.system ['touch {marker}']", 1)
    target.write_text(text, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "grader", "exercise3", "--course", str(tmp_path),
                           "--workspace", str(tmp_path / "workspace"), "--format", "json"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "exercise3.yaml:2" in proc.stderr + proc.stdout
    assert not marker.exists()
    with pytest.raises(ConfigError):
        load_model(target, Exercise)
