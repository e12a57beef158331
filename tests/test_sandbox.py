"""The isolation itself: what the child can see and do in the bubblewrap sandbox and in
process mode, the fallback between them, and a launcher reused for many jobs, from
several threads, across a zygote that dies.

Sandbox tests skip, with the reason, where bubblewrap is missing or cannot start.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import ROOT, course_with_defaults

from grader.boundary import confine, jail, sandbox
from grader.course import CourseDir
from grader.grading import GradeOptions, grade_source, reference_submission

UNDER_TMP = ROOT.is_relative_to("/tmp")
"""A checkout under /tmp: the child's private /tmp binds its package back, read-only, so the
checkout's top folder shows there (holding the package only), and writes to the checkout's
path land in that private /tmp, never in the real checkout."""
BOUND_BACK = sorted({Path(p).relative_to("/tmp").parts[0] for p in [str(ROOT), *confine.python_paths()]
                     if Path(p).is_relative_to("/tmp") and Path(p) != Path("/tmp")})
"""The same for a Python installation under /tmp (a venv made there)."""

PROBE = '''
import json, os, socket
facts = {"pid": os.getpid(), "ppid": os.getppid(), "uid": os.getuid(), "euid": os.geteuid(),
         "env": sorted(os.environ), "cwd": os.getcwd(), "tmp": os.listdir("/tmp")}
for name, path in {COURSE}.items():
    facts["sees_" + name] = os.path.exists(path)
facts["course_holds"] = sorted(os.listdir({ROOT!r})) if os.path.isdir({ROOT!r}) else []
for target in ({HACK!r}, "/usr/hack.txt", "/tmp/ok.txt"):
    try:
        with open(target, "w") as f:
            f.write("x")
        facts.setdefault("wrote", []).append(target)
    except OSError:
        pass
with open("/proc/self/status") as f:
    status = dict(line.split(":", 1) for line in f if ":" in line)
facts["cap_eff"] = int(status["CapEff"].strip(), 16)
facts["no_new_privs"] = status["NoNewPrivs"].strip()
try:
    socket.create_connection(("1.1.1.1", 53), timeout=1).close()
    facts["network"] = True
except OSError:
    facts["network"] = False
print("FACTS" + json.dumps(facts))
'''


def probe(course: CourseDir, launcher: Any) -> dict[str, Any]:
    places = {"solutions": str(ROOT / "solutions"), "exercises": str(ROOT / "exercises"),
              "workspace": str(course.workspace), "home": os.path.expanduser("~")}
    hack = ROOT / f".hack-{os.getpid()}-{time.monotonic_ns()}.txt"
    source = PROBE.replace("{COURSE}", repr(places)).replace("{ROOT!r}", repr(str(ROOT))).replace(
        "{HACK!r}", repr(str(hack)))
    try:
        report = grade_source(course, "exercise3", source, "exercise3.py", GradeOptions(devices=("cpu",)), launcher)
    finally:
        wrote = hack.exists()
        hack.unlink(missing_ok=True)
    line = next(x for x in report.output.splitlines() if x.startswith("FACTS"))
    facts = json.loads(line[len("FACTS"):])
    facts["isolation"] = report.isolation
    facts["wrote_course"] = wrote
    return facts


def python_in_checkout() -> list[str]:
    """The checkout's top-level entries that the sandbox binds: the package, and the folder
    of the Python installation when it lies in the checkout (`python -m venv .venv`)."""
    tops = {Path(p).relative_to(ROOT).parts[0] for p in confine.python_paths()
            if Path(p).is_relative_to(ROOT) and Path(p) != ROOT}
    return sorted(tops | {"grader"})


@pytest.fixture(scope="module")
def course() -> CourseDir:
    return CourseDir(ROOT)


@pytest.fixture(scope="module")
def bwrap_launcher(course: CourseDir) -> Any:
    if sandbox.bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed: the sandbox cannot be tested here")
    launcher = sandbox.SandboxLauncher()
    launcher.prestart()
    grade_source(course, "exercise3", "", "exercise3.py", GradeOptions(devices=("cpu",)), launcher)
    if launcher.fallback_reason:
        launcher.close()
        pytest.skip(f"bubblewrap is installed but its sandbox does not start here: {launcher.fallback_reason}")
    yield launcher
    launcher.close()


def test_sandbox_shows_the_child_nothing_of_the_course(course: CourseDir, bwrap_launcher: Any) -> None:
    facts = probe(course, bwrap_launcher)
    assert facts["isolation"] == "bwrap"
    assert not any(facts[f"sees_{name}"] for name in ("solutions", "exercises", "workspace"))
    # the package and the Python installation (a `.venv/` inside the checkout), bound read-only,
    # and nothing else of the course; a checkout under /tmp is hidden whole by the child's private /tmp
    assert facts["course_holds"] in (python_in_checkout(), [])
    assert facts["pid"] == 1 and facts["ppid"] == 0  # its own PID namespace: the grader has no pid in it
    assert facts["uid"] != 0 and facts["euid"] != 0
    assert facts["cap_eff"] == 0 and facts["no_new_privs"] == "1"
    assert facts["network"] is False
    assert facts["wrote"] == ["/tmp/ok.txt"] and not facts["wrote_course"]  # a private /tmp, the rest read-only
    assert facts["tmp"] == BOUND_BACK  # fresh for each job
    assert set(facts["env"]) <= {"PATH", "HOME", "LANG", "TMPDIR", "USER", "LOGNAME", "MPLCONFIGDIR",
                                 "OMP_NUM_THREADS", "PYTHONDONTWRITEBYTECODE", "LC_ALL", "LC_CTYPE", "TZ"}


def test_process_mode_confines_what_it_can(course: CourseDir, monkeypatch: pytest.MonkeyPatch) -> None:
    """Process mode: no environment of the grader's; as root, also its own PID and network
    namespaces, a read-only view with a private /tmp, an unused uid and no capabilities.
    (It cannot hide the course: README, trust model.)"""
    monkeypatch.setenv("GRADER_TEST_SECRET", "do-not-leak")
    facts = probe(course, sandbox.ForkLauncher())
    assert facts["isolation"] == "process"
    assert "GRADER_TEST_SECRET" not in facts["env"]
    if os.geteuid() != 0:
        pytest.skip("the namespaces of process mode are set up as root; not root here")
    assert facts["pid"] == 1 and facts["ppid"] == 0
    assert facts["uid"] in confine.JOB_UIDS
    assert facts["cap_eff"] == 0 and facts["no_new_privs"] == "1"
    assert facts["network"] is False
    assert facts["wrote"] == ["/tmp/ok.txt"] and not facts["wrote_course"]


def test_process_mode_in_a_user_namespace(tmp_path: Path) -> None:
    """The non-root path of process mode (a relay outside, the job as process 1 of new user,
    PID, mount and network namespaces), exercised here whoever runs the tests."""
    hack = ROOT / f".hack-{os.getpid()}-{time.monotonic_ns()}.txt"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            if os.geteuid() == 0:  # as a user (root may not map itself into a user namespace)
                uid = confine.job_uid(os.getpid(), 0)
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
            home = jail.confine_user_child(jail.Limits(task_timeout=[5.0]), str(tmp_path)).home
            facts: dict[str, Any] = {"pid": os.getpid(), "home": home}
            try:
                open(hack, "w").close()  # noqa: SIM115
                facts["wrote_course"] = True
            except OSError:
                facts["wrote_course"] = False
            try:  # a plain connect: this uid may not read Python's lazily imported modules here
                with socket.socket() as s:
                    s.settimeout(1)
                    s.connect(("1.1.1.1", 53))
                facts["network"] = True
            except OSError:
                facts["network"] = False
            os.write(write, json.dumps(facts).encode())
        finally:
            os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 4096):
        data += chunk
    os.close(read)
    _, status = os.waitpid(pid, 0)
    wrote = hack.exists()
    hack.unlink(missing_ok=True)
    if not data:
        pytest.skip("this kernel refuses user namespaces; process mode falls back to a plain child")
    facts = json.loads(data)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0  # the relay passed the status on
    assert facts == {"pid": 1, "home": "/tmp", "wrote_course": UNDER_TMP, "network": False}
    assert not wrote  # the real checkout is untouched either way


def test_a_sandbox_that_cannot_start_falls_back_to_process_mode(course: CourseDir) -> None:
    launcher = sandbox.SandboxLauncher("/bin/false")
    report = grade_source(course, "exercise3", reference_submission(course, "exercise3"), "exercise3.py",
                          GradeOptions(devices=("cpu",)), launcher)
    assert report.isolation == "process" and report.score == report.max_score
    assert launcher.fallback_reason and "exited while starting" in launcher.fallback_reason
    assert sandbox.SandboxLauncher("").fallback_reason == "bubblewrap (bwrap) is not installed"


def test_isolation_can_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "_SHARED", {})
    monkeypatch.setenv(sandbox.ISOLATION_ENV, "process")
    launcher = sandbox.shared_launcher()
    assert type(launcher) is sandbox.ForkLauncher and launcher.isolation == "process"
    monkeypatch.setattr(sandbox, "_SHARED", {})
    monkeypatch.setenv(sandbox.ISOLATION_ENV, "none")
    assert sandbox.shared_launcher().isolation == "none"
    monkeypatch.setattr(sandbox, "_SHARED", {})
    monkeypatch.setenv(sandbox.ISOLATION_ENV, "bwrap")
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    with pytest.raises(sandbox.SandboxError, match="apt-get install bubblewrap"):
        sandbox.shared_launcher()
    monkeypatch.setenv(sandbox.ISOLATION_ENV, "chroot")
    with pytest.raises(sandbox.SandboxError, match="auto, bwrap, process or none"):
        sandbox.shared_launcher()


@pytest.fixture(scope="module")
def process_launcher() -> Any:
    launcher = sandbox.ForkLauncher()
    yield launcher
    launcher.close()


def test_the_sandbox_binds_python_and_the_package_only() -> None:
    args = sandbox.bwrap_command("bwrap", 3)
    for flag in ("--unshare-net", "--unshare-pid", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in args
    bound = [args[i + 2] for i, a in enumerate(args) if a == "--ro-bind"]
    allowed = [*sandbox._SYSTEM_DIRS, *sandbox._ETC_FILES, *confine.python_paths()]
    assert all(path in allowed for path in bound), bound
    for path in bound:
        assert not str(ROOT / "solutions").startswith(path.rstrip("/") + "/") and path != str(ROOT)
    config = json.loads(args[-1])
    assert all(not p.startswith(str(ROOT / "solutions")) for p in config["path"])


def test_one_sandbox_serves_many_jobs_from_several_threads(course: CourseDir, bwrap_launcher: Any) -> None:
    opts = GradeOptions(devices=("cpu", "meta"))
    right = reference_submission(course, "exercise3")
    wrong = "def cube_grad(x):\n    return x\n"
    hang = "def cube_grad(x):\n    while True:\n        pass\n"
    sources = [right, wrong, hang, right, wrong, right]
    results: dict[int, Any] = {}

    def grade(i: int) -> None:
        timeout = GradeOptions(devices=opts.devices, timeout=1.0)
        try:
            results[i] = grade_source(course, "exercise3", sources[i], "exercise3.py", timeout, bwrap_launcher)
        except BaseException as exc:  # shown by the assertion below, not lost in a thread
            results[i] = exc

    starts = bwrap_launcher.zygote_starts
    threads = [threading.Thread(target=grade, args=(i,)) for i in range(len(sources))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert [getattr(results.get(i), "score", results.get(i)) for i in range(len(sources))] == \
        [6.0, 0.0, 0.0, 6.0, 0.0, 6.0]
    assert results[2].tasks[0].status == "timeout"
    assert all(r.isolation == "bwrap" for r in results.values())
    assert bwrap_launcher.zygote_starts == starts  # one warm sandbox for all of them


@pytest.mark.parametrize("mode", ["bwrap", "process"])
def test_a_sandbox_started_by_a_thread_that_ends_keeps_serving_the_others(mode: str, course: CourseDir) -> None:
    """The zygote dies with its parent (`--die-with-parent`, PR_SET_PDEATHSIG), which the kernel
    ties to the starting *thread*: a grading thread that started it and ended used to take the
    jobs of every other thread with it, and correct code scored 0 ("your code was killed")."""
    if mode == "bwrap" and sandbox.bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    launcher = sandbox.SandboxLauncher() if mode == "bwrap" else sandbox.ForkLauncher()
    try:
        opts = GradeOptions(devices=("cpu",))
        starter = threading.Thread(target=grade_source, args=(course, "exercise3", "", "exercise3.py", opts, launcher))
        starter.start()  # starts the zygote, grades an empty file, ends
        starter.join()
        time.sleep(0.5)  # the parent-death signal, had it been armed for that thread, is sent at once
        right = reference_submission(course, "exercise3")
        report = grade_source(course, "exercise3", right, "exercise3.py", opts, launcher)
        assert report.score == report.max_score, [t.feedback for t in report.tasks]
        assert launcher.zygote_starts == 1 and launcher.fallback_reason is None
        assert report.isolation == mode
    finally:
        launcher.close()


@pytest.mark.parametrize("mode", ["bwrap", "process"])
def test_a_first_job_can_use_what_the_zygote_loads_only_when_idle(mode: str, course: CourseDir) -> None:
    """torch.func is loaded by the zygote once it is idle after a job (so that a cold
    `grade exercise3` does not wait a second for it); a child that uses it before then loads it
    itself, which the shield must allow: correct code written with torch.func keeps full marks."""
    if mode == "bwrap" and sandbox.bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    launcher = sandbox.SandboxLauncher() if mode == "bwrap" else sandbox.ForkLauncher()
    source = (ROOT / "tests" / "hostile" / "ex3_alt_autograd_ways.py").read_text()
    try:
        report = grade_source(course, "exercise3", source, "exercise3.py", GradeOptions(devices=("cpu",)), launcher)
        assert report.score == report.max_score, [t.feedback for t in report.tasks]
        assert launcher.zygote_starts == 1 and report.isolation == mode
    finally:
        launcher.close()


SLOW_RIGHT = """
import time as _time
_right_cube_grad = cube_grad


_slept = []


def cube_grad(x):
    if not _slept:  # long enough, once, for the test to kill the sandbox under it
        _slept.append(_time.sleep(2.0))
    return _right_cube_grad(x)
"""


def _kill_zygotes(launcher: Any, how_many: int) -> threading.Thread:
    """Kills each of the launcher's next `how_many` zygotes a second after it started."""
    def kill() -> None:
        seen: set[int] = set()
        deadline = time.monotonic() + 60
        while len(seen) < how_many and time.monotonic() < deadline:
            proc = launcher._proc
            if proc is not None and proc.pid not in seen and launcher._ready:
                seen.add(proc.pid)
                time.sleep(1.0)
                os.kill(proc.pid, signal.SIGKILL)
            time.sleep(0.05)

    killer = threading.Thread(target=kill, daemon=True)
    killer.start()
    return killer


def test_a_zygote_that_dies_under_a_job_is_replaced_and_the_job_runs_again(course: CourseDir,
                                                                           bwrap_launcher: Any) -> None:
    """Killed from outside while correct code runs: not the student's doing, so the task runs
    again on a fresh sandbox and earns its points (the printed output is not doubled)."""
    starts = bwrap_launcher.zygote_starts
    grade_source(course, "exercise3", "", "exercise3.py", GradeOptions(devices=("cpu",)), bwrap_launcher)  # warm
    killer = _kill_zygotes(bwrap_launcher, 1)
    source = reference_submission(course, "exercise3") + "\nprint('loaded once')\n" + SLOW_RIGHT
    report = grade_source(course, "exercise3", source, "exercise3.py", GradeOptions(devices=("cpu",)),
                          bwrap_launcher)
    killer.join()
    assert report.score == report.max_score, [t.feedback for t in report.tasks]
    assert report.isolation == "bwrap"
    assert bwrap_launcher.zygote_starts == starts + 1
    assert report.output.count("loaded once") == 1


def test_a_zygote_that_dies_twice_under_a_task_is_the_graders_error(course: CourseDir, tmp_path: Path) -> None:
    """The second loss is reported as `grader_error` (never the student's 0, never stored for
    --resume); the next task still runs, on a third sandbox."""
    if sandbox.bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    launcher = sandbox.SandboxLauncher()
    try:
        grade_source(course, "exercise3", "", "exercise3.py", GradeOptions(devices=("cpu",)), launcher)
        killer = _kill_zygotes(launcher, 2)
        source = reference_submission(course, "exercise3") + SLOW_RIGHT
        report = grade_source(course, "exercise3", source, "exercise3.py", GradeOptions(devices=("cpu",)), launcher)
        killer.join()
        first, second = report.tasks
        assert first.status == "grader_error" and "twice" in first.feedback and first.score == 0
        assert second.status == "passed"
        assert launcher.zygote_starts == 3 and launcher.fallback_reason is None
    finally:
        launcher.close()


def test_process_mode_jobs_in_parallel_do_not_touch_each_other(course: CourseDir) -> None:
    """A shared process-mode launcher: killing one job's tree never kills another job."""
    launcher = sandbox.ForkLauncher()
    results: dict[str, Any] = {}
    sources = {"hang": "def cube_grad(x):\n    while True:\n        pass\n",
               "right": reference_submission(course, "exercise3")}

    def grade(name: str) -> None:
        results[name] = grade_source(course, "exercise3", sources[name], "exercise3.py",
                                     GradeOptions(devices=("cpu", "meta"), timeout=1.0), launcher)

    threads = [threading.Thread(target=grade, args=(name,)) for name in sources]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results["right"].score == results["right"].max_score
    assert results["hang"].tasks[0].status == "timeout"


def test_batch_workers_share_one_zygote_and_each_keeps_its_own_jobs(course: CourseDir) -> None:
    """`grade batch` gives each worker a control socket to its own sandbox (attach): one zygote
    for all, jobs reported to the socket that started them, and a worker that goes away takes
    only its own jobs with it. When the shared zygote is gone, a worker starts one of its own
    (and a job it lost that way runs again there)."""
    if sandbox.bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed: the sandbox cannot be tested here")
    owner = sandbox.SandboxLauncher()
    if owner.ready() != "bwrap":
        pytest.skip(f"bubblewrap is installed but its sandbox does not start here: {owner.fallback_reason}")
    first, second = (sandbox.SandboxLauncher.attached(owner.attach()) for _ in range(2))
    right = reference_submission(course, "exercise3")
    hang = "def cube_grad(x):\n    while True:\n        pass\n"
    opts = GradeOptions(devices=("cpu",), timeout=30.0)
    try:
        # a job of the first worker runs while the second worker's socket closes mid-job
        results: dict[str, Any] = {}
        worker = threading.Thread(target=lambda: results.update(
            hang=grade_source(course, "exercise3", hang, "exercise3.py", dataclasses.replace(opts, timeout=3.0),
                              second)))
        worker.start()
        time.sleep(1.0)
        with_job = owner.helper_pids()
        assert second._sock is not None
        second._sock.close()  # the worker is gone: the zygote kills its job at once (not after its timeout)
        end = time.monotonic() + 2.0
        while owner.helper_pids() >= with_job and time.monotonic() < end:
            time.sleep(0.05)
        assert len(owner.helper_pids()) < len(with_job)
        worker.join(30)
        assert not worker.is_alive()
        assert results["hang"].tasks[0].status == "timeout" and second.zygote_starts == 1  # ran again, alone
        report = grade_source(course, "exercise3", right, "exercise3.py", opts, first)
        assert report.isolation == "bwrap" and report.score == report.max_score
        assert owner.zygote_starts == 1 and first.zygote_starts == 0  # one bwrap process for all of them
        owner.close()  # the shared zygote stops: the worker starts a sandbox of its own
        again = grade_source(course, "exercise3", right, "exercise3.py", opts, first)
        assert again.isolation == "bwrap" and again.score == again.max_score and first.zygote_starts == 1
    finally:
        for launcher in (first, second, owner):
            launcher.close()


def _huge_pages_possible() -> str | None:
    """Why a zygote cannot back its heap with huge pages here (None: it can)."""
    try:
        mode = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return "no transparent huge pages on this machine"
    if "[never]" in mode:
        return "transparent huge pages are off on this machine ([never])"
    major, minor = (int(v) for v in os.uname().release.split(".")[:2])
    if (major, minor) < (6, 1):
        return f"MADV_COLLAPSE needs Linux 6.1 (this is {os.uname().release})"
    return None


def _anon_huge_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith("AnonHugePages:")), 0)


@pytest.mark.parametrize("mode", ["bwrap", "process"])
def test_a_batch_zygote_forks_from_huge_pages_and_its_jobs_grade_the_same(mode: str, course: CourseDir) -> None:
    """When a batch's first worker attaches, the zygote backs its heap with huge pages (a fork
    then copies a 512th of the page tables: about 10 ms less a job). Copy-on-write must still
    hold: every job starts from the zygote's memory, whatever the job before wrote into it."""
    why = _huge_pages_possible()
    if why:
        pytest.skip(why)
    if mode == "bwrap" and sandbox.bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed: the sandbox cannot be tested here")
    owner = sandbox.SandboxLauncher() if mode == "bwrap" else sandbox.ForkLauncher()
    if owner.ready() != mode:
        pytest.skip(f"the {mode} sandbox does not start here: {owner.fallback_reason}")
    worker = sandbox.SandboxLauncher.attached(owner.attach())
    opts = GradeOptions(devices=("cpu",), timeout=30.0)
    # each job rebinds torch's functions in its own copy of the zygote's memory
    spoiler = "import torch\ntorch.Tensor.backward = lambda *a, **k: None\ntorch.autograd.grad = None\n" \
        "def cube_grad(x):\n    return 3 * x * x\n"
    try:
        assert worker.ready() == mode
        huge = max((_anon_huge_kb(pid) for pid in owner.helper_pids()), default=0)
        assert huge >= 32 << 10, f"the zygote has {huge} KiB of huge pages after a batch attached"
        right = reference_submission(course, "exercise3")
        for _ in range(3):
            spoiled = grade_source(course, "exercise3", spoiler, "exercise3.py", opts, worker)
            report = grade_source(course, "exercise3", right, "exercise3.py", opts, worker)
            assert spoiled.score < spoiled.max_score
            assert report.score == report.max_score, report.tasks
    finally:
        worker.close()
        owner.close()


HIDE_AFTER_IMPORT = """
import sys
from grader.boundary import shield
shield.list_grader_modules()
import grader.answers  # imported after the zygote listed the grader's modules
shield.hide_modules()
print(sorted(n for n in sys.modules if n.split(".")[0] == "grader"))
"""


def test_the_grader_modules_are_hidden_even_when_one_came_after_the_zygote_listed_them() -> None:
    """A child hides the grader's modules with the list its zygote made before forking; a
    module imported since then is found all the same (nothing of the grader stays reachable)."""
    out = subprocess.run([sys.executable, "-c", HIDE_AFTER_IMPORT], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout
    assert out.strip() == "[]"


MEMORY_HELPERS = '''
import os
import time

import torch

read, write = os.pipe()
helpers = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        block = bytearray(150 << 20)
        for i in range(0, len(block), 4096):
            block[i] = 1
        os.write(write, b"x")
        time.sleep(30)
        os._exit(0)
    helpers.append(pid)
os.close(write)
os.set_blocking(read, False)
held = 0
end = time.monotonic() + 4
while time.monotonic() < end:
    try:
        held += len(os.read(read, 16))
    except BlockingIOError:
        pass
    time.sleep(0.05)
    alive = sum(1 for pid in helpers if os.waitpid(pid, os.WNOHANG) == (0, 0))
print(f"helpers that held their memory: {held}, alive: {alive}")


def cube_grad(x):
    leaf = x.detach().requires_grad_()
    (leaf**3).sum().backward()
    return leaf.grad


def cube_second_grad(x):
    leaf = x.detach().requires_grad_()
    (g,) = torch.autograd.grad((leaf**3).sum(), leaf, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), leaf)
    return h
'''


def test_forked_helpers_share_the_memory_limit_of_their_job(tmp_path: Path) -> None:
    """Four forked helpers of 150 MiB each, with `memory_mb: 256` for the job: where the grader
    can make a cgroup v2 per job, the whole job is held to 256 MiB (at most one helper keeps its
    memory); the report names how the limits were held, and full marks (the answers are right).
    Skipped where no cgroup can be made (cgroup v1, no rights): the limit is then per process."""
    if confine.cgroup_base() is None:
        pytest.skip("no cgroup v2 with the memory and pids controllers for this grader here: memory is "
                    "limited per process (reports say so: test_reports_name_the_limits_and_how_they_were_held)")
    course = CourseDir(course_with_defaults(tmp_path, memory_mb=256, timeout=10))
    report = grade_source(course, "exercise3", MEMORY_HELPERS, "exercise3.py", GradeOptions(devices=("cpu",)),
                          sandbox.shared_launcher())
    assert report.limits["memory_mb"] == 256 and report.limits["held_by"].startswith("cgroup v2")
    held = int(report.output.split("helpers that held their memory: ")[1].split(",")[0])
    assert held <= 1, report.output
    assert report.score == report.max_score


FILTERED_CALLS = """
import ctypes, errno, os, platform, sys
from grader.boundary import confine

flt = confine.SeccompFilter(deny_sysv_ipc=True)
if sys.argv[1] == "compiled":  # the warm process's program, installed as it is: libseccomp is not asked again
    assert flt._program is not None, "libseccomp's program was not exported"
    flt._filter = None
else:  # libseccomp compiles and loads it (where the program could not be exported)
    flt._program = None
flt.load()
libc = ctypes.CDLL(None, use_errno=True)
numbers = {"x86_64": {"process_vm_readv": 310, "keyctl": 250, "bpf": 321, "perf_event_open": 298,
                      "userfaultfd": 323},
           "aarch64": {"process_vm_readv": 270, "keyctl": 219, "bpf": 280, "perf_event_open": 241,
                       "userfaultfd": 282}}.get(platform.machine(), {})
calls = {
    "ptrace": lambda: libc.ptrace(0, 0, None, None),
    "unshare": lambda: libc.unshare(0x10000000 | 0x08000000),
    "setns": lambda: libc.setns(os.open("/proc/self/ns/ipc", os.O_RDONLY), 0),
    "mount": lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None),
    "shmget": lambda: libc.shmget(0x6D656D31, 1 << 20, 0o1000 | 0o666),
}
for name, number in numbers.items():
    calls[name] = lambda number=number: libc.syscall(ctypes.c_long(number), 0, 0, 0, 0, 0)
allowed = []
for name, call in calls.items():
    ctypes.set_errno(0)
    if call() >= 0 or ctypes.get_errno() not in (errno.EPERM, errno.ENOSYS):
        allowed.append(name)
print("denied:", len(calls), "allowed:", allowed)
"""


@pytest.mark.parametrize("how", ["compiled", "libseccomp"])
def test_the_system_call_filter_denies_what_no_exercise_needs(how: str) -> None:
    """The wall under the audit hook (which refuses ctypes in graded code: tests/hostile/
    ex3_denied_syscalls.py): a process with the children's filter loaded gets EPERM or ENOSYS
    from ptrace, unshare, setns, mount, System V shared memory and the calls that read other
    processes or the kernel. Children install the program libseccomp compiled once in the warm
    process (`compiled`); libseccomp's own load is the fallback."""
    if not confine.SeccompFilter(deny_sysv_ipc=True).available:
        pytest.skip("no libseccomp here: children run unfiltered and reports say so")
    done = subprocess.run([sys.executable, "-c", FILTERED_CALLS, how], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert "allowed: []" in done.stdout and "denied: " in done.stdout, done.stdout


def test_without_libseccomp_the_filter_is_missing_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyseccomp is Linux-only and needs libseccomp: without it, children run unfiltered and
    every report's limits say why (the zygote passes this text on)."""
    monkeypatch.setitem(sys.modules, "pyseccomp", None)
    flt = confine.SeccompFilter(deny_sysv_ipc=True)
    assert not flt.available and flt.missing.startswith("no system call filter (libseccomp unavailable")
    flt.load()  # nothing to load: no error


def test_reports_name_the_limits_and_how_they_were_held(course: CourseDir) -> None:
    launcher = sandbox.ForkLauncher()
    try:
        report = grade_source(course, "exercise3", reference_submission(course, "exercise3"), "exercise3.py",
                              GradeOptions(devices=("cpu",)), launcher)
    finally:
        launcher.close()
    limits = report.to_json()["limits"]
    assert limits["memory_mb"] == 2048 and limits["processes"] == 64
    assert limits["system_call_filter"] == "on"
    assert limits["held_by"].startswith(("cgroup v2", "resource limits"))


@pytest.mark.parametrize("mode", ["bwrap", "process"])
def test_each_job_joins_a_cgroup_of_its_own_through_a_descriptor(mode: str, course: CourseDir, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The plumbing of the cgroup per job, on a stand-in folder (this machine may have no cgroup
    v2): the launcher makes a group per job with the job's limits, and the child, inside the
    sandbox or in process mode, writes "0" to the `cgroup.procs` descriptor it was given."""
    if mode == "bwrap" and sandbox.bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    monkeypatch.setattr(confine, "cgroup_base", lambda: str(tmp_path))
    launcher = sandbox.SandboxLauncher() if mode == "bwrap" else sandbox.ForkLauncher()
    try:
        report = grade_source(course, "exercise3", reference_submission(course, "exercise3"), "exercise3.py",
                              GradeOptions(devices=("cpu",)), launcher)
    finally:
        launcher.close()
    if mode == "bwrap" and report.isolation != "bwrap":
        pytest.skip(f"the sandbox does not start here: {launcher.fallback_reason}")
    assert report.score == report.max_score
    assert report.limits["held_by"].startswith("cgroup v2")
    [group] = tmp_path.glob("course-grader-*")
    assert (group / "cgroup.subtree_control").read_text() == "+memory +pids"
    jobs = sorted(group.glob("job-*"))
    assert jobs and all((job / "cgroup.procs").read_text() == "0" for job in jobs)
    assert (jobs[0] / "memory.max").read_text() == str(2048 << 20) and (jobs[0] / "pids.max").read_text() == "64"
    assert (jobs[0] / "memory.swap.max").read_text() == "0" and (jobs[0] / "cgroup.kill").read_text() == "1"


def test_the_peak_memory_of_jobs_released_before_their_exit_is_still_counted(course: CourseDir) -> None:
    """A child that has sent all its results is released without waiting for its exit (its
    namespaces tear down later); the zygote's report of its peak memory, which comes after,
    still counts: an all-correct class said "per child not measured"."""
    if sandbox.bwrap_path() is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    launcher = sandbox.SandboxLauncher()
    try:
        right = reference_submission(course, "exercise3")
        for _ in range(2):  # the first job's exit is read while the second runs
            report = grade_source(course, "exercise3", right, "exercise3.py", GradeOptions(devices=("cpu",)), launcher)
            assert report.score == report.max_score
        assert launcher.peak_child_rss_kb > 50 * 1024  # a child holds at least torch's pages it touched
    finally:
        launcher.close()


# ------------------------------------------------------------------ GPUs (checked on an H200; here without one)

@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine's CUDA starts")
@pytest.mark.parametrize("mode", ["bwrap", "process"])
def test_a_cuda_that_will_not_start_is_the_graders_error_before_any_student_code(
        mode: str, course: CourseDir, request: pytest.FixtureRequest) -> None:
    """Each child starts CUDA itself (it cannot cross a fork), before the submission's code: where
    it fails, every task is the grader's error with a message that says so, never the student's 0
    or "your code broke the result channel" (what an H200 showed before children started it)."""
    launcher = request.getfixturevalue(f"{mode}_launcher")
    source = 'print("STUDENT CODE RAN")\n' + reference_submission(course, "exercise3")
    report = grade_source(course, "exercise3", source, "exercise3.py", GradeOptions(devices=("cpu", "cuda")),
                          launcher)
    assert "STUDENT CODE RAN" not in report.output
    for task in report.tasks:
        assert task.status == "grader_error" and task.score == 0
        assert task.feedback.startswith("the grader could not start cuda (")
        assert "not your code's" in task.feedback and "--devices cpu,meta" in task.feedback
    assert report.limits["memory_per_process"].startswith("data, not address space")


def test_cuda_jobs_hold_memory_by_data_not_address_space() -> None:
    """CUDA reserves tens of GiB of address space when it starts: under RLIMIT_AS it fails with
    "out of memory" (seen on an H200), so a job that checks `cuda` is held by RLIMIT_DATA, which
    still stops a submission that allocates more than `memory_mb`."""
    code = f'''
import resource, sys
sys.path.insert(0, {str(ROOT)!r})
from grader.boundary import jail
jail._apply_limits(jail.Limits(task_timeout=[5.0], memory_mb=64, cuda=sys.argv[1] == "cuda"))
print(resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY,
      resource.getrlimit(resource.RLIMIT_DATA)[0] == resource.RLIM_INFINITY)
try:
    block = bytearray(256 << 20)
    print("allocated")
except MemoryError:
    print("refused")
'''
    for device, unlimited in (("cuda", "True False"), ("cpu", "False True")):
        out = subprocess.run([sys.executable, "-c", code, device], capture_output=True, text=True, timeout=60)
        assert out.stdout.split("\n")[:2] == [unlimited, "refused"], (device, out.stdout, out.stderr)


def test_the_sandbox_lets_children_reach_the_gpu_and_nothing_else_new(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    """Where NVIDIA's device nodes exist they are bound into the sandbox, with /sys (read-only),
    and the zygote's environment asks CUDA's availability through NVML (asked through the CUDA
    runtime before a fork, every forked child fails to start CUDA). Of LD_LIBRARY_PATH only the
    folders holding libcuda come along."""
    driver, other = tmp_path / "driver", tmp_path / "course"
    driver.mkdir()
    other.mkdir()
    (driver / "libcuda.so.1").write_bytes(b"")
    (other / "solutions.py").write_text("secret")
    monkeypatch.setenv("LD_LIBRARY_PATH", f"{other}:relative/dir:{driver}")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    env = sandbox.zygote_env()
    assert env["PYTORCH_NVML_BASED_CUDA_CHECK"] == "1" and env["CUDA_VISIBLE_DEVICES"] == "1"
    assert env["LD_LIBRARY_PATH"] == str(driver)

    monkeypatch.setattr(sandbox, "gpu_devices", lambda: ["/dev/nvidia0", "/dev/nvidiactl"])
    args = sandbox.bwrap_command("bwrap", 3)
    pairs = list(zip(args, args[1:], strict=False))
    assert ("--dev-bind", "/dev/nvidia0") in pairs and ("--dev-bind", "/dev/nvidiactl") in pairs
    assert ("--ro-bind-try", "/sys") in pairs and ("--ro-bind", str(driver)) in pairs
    assert str(other) not in args and ("LD_LIBRARY_PATH", str(driver)) in pairs
    assert args.index("--dev-bind") > args.index("--dev")  # after the sandbox's own /dev

    monkeypatch.setattr(sandbox, "gpu_devices", lambda: [])
    monkeypatch.delenv("LD_LIBRARY_PATH")
    args = sandbox.bwrap_command("bwrap", 3)
    assert "--dev-bind" not in args and "/sys" not in args and "LD_LIBRARY_PATH" not in args


SHM_PROBE = '''
import os
with open("/dev/shm/left-by-{tag}", "w") as f:
    f.write("x")
print("SHM", sorted(os.listdir("/dev/shm")))
'''


@pytest.mark.parametrize("mode", ["bwrap", "process"])
def test_each_job_has_a_private_writable_dev_shm(mode: str, course: CourseDir, request: pytest.FixtureRequest) -> None:
    """POSIX shared memory is the job's own, as its /tmp is: writable (process mode as root left
    the host's, read-only), empty at the start, and gone with the job: nothing reaches the host's."""
    if mode == "process" and os.geteuid() != 0:
        pytest.skip("process mode gives each job its own mounts as root")
    launcher = request.getfixturevalue(f"{mode}_launcher")
    tag = f"{os.getpid()}-{time.monotonic_ns()}"
    outputs = [grade_source(course, "exercise3", SHM_PROBE.replace("{tag}", f"{tag}-{i}"), "exercise3.py",
                            GradeOptions(devices=("cpu",)), launcher).output for i in range(2)]
    for i, output in enumerate(outputs):
        assert f"SHM ['left-by-{tag}-{i}']" in output, output  # writable, and the other job's file is not there
    assert not [name for name in os.listdir("/dev/shm") if tag in name]


WARM_UP_WITH_A_GPU = '''
import sys
sys.path.insert(0, {root!r})
import torch
from grader.boundary import child, observe
child._GPU = True  # as the zygote finds on a machine with an NVIDIA GPU
def refuse(*args, **kwargs):
    raise AssertionError("ran before a fork on a GPU machine")
torch.autograd.grad = torch.Tensor.backward = torch.func.grad = refuse
observe.ProfilerControl.start = child.ProfilerControl.start = refuse
child.prewarm()  # zygote.prewarm's part that ran both
child.prewarm_idle()
print("ok", "torch._dynamo" in sys.modules)
'''


def test_with_a_gpu_the_zygote_neither_profiles_nor_runs_a_backward_before_forking() -> None:
    """On an H200 both left every forked child broken: the profiler's start asks the CUDA
    runtime about GPUs ("CUDA error: initialization error" in the child), and autograd's first
    backward starts a thread per GPU ("Unable to handle autograd's threading in combination
    with fork-based multiprocessing"). The warm-up still loads what it can (torch._dynamo)."""
    out = subprocess.run([sys.executable, "-c", WARM_UP_WITH_A_GPU.replace("{root!r}", repr(str(ROOT)))],
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["ok", "True"], out.stderr[-2000:]


META_KERNELS = r'''
import json, sys, types, warnings
from pathlib import Path
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from grader.boundary import child, metakernels
from grader.course import CourseDir
from grader.grading import GradeOptions, build_job, plan

warnings.simplefilter("ignore")
m = lambda *shape, dtype=torch.float32: torch.ones(*shape, device="meta", dtype=dtype)
i64 = lambda *shape: m(*shape, dtype=torch.int64)
SAMPLES = {  # one call of each operator in NATIVE_COMPOSITES, on meta tensors
    "sum": lambda: m(3, 4).sum(), "mean": lambda: m(3, 4).mean(), "abs": lambda: m(3).abs(),
    "_unsafe_view": lambda: torch.ops.aten._unsafe_view(m(3, 4), [4, 3]),
    "add.Scalar": lambda: torch.ops.aten.add.Scalar(m(2), 1), "sub.Scalar": lambda: torch.ops.aten.sub.Scalar(i64(2), 1),
    "mul.Scalar": lambda: torch.ops.aten.mul.Scalar(i64(2), 2.5), "div.Scalar": lambda: torch.ops.aten.div.Scalar(i64(2), 2),
    "rsub.Scalar": lambda: torch.ops.aten.rsub.Scalar(m(2), 1),
    "ones": lambda: torch.ones(2, 3, device="meta"), "zeros": lambda: torch.zeros(2, device="meta", dtype=torch.int32),
    "full": lambda: torch.full((2, 2), 7, device="meta"), "ones_like": lambda: torch.ones_like(i64(3)),
    "zeros_like": lambda: torch.zeros_like(m(3, 1)), "empty_like": lambda: torch.empty_like(m(2, 5).t()),
    "scalar_tensor": lambda: torch.scalar_tensor(3, device="meta"), "new_ones": lambda: m(2).new_ones(3, 2),
    "new_zeros": lambda: i64(2).new_zeros(4), "new_full": lambda: m(2).new_full((2,), 1.5),
    "new_empty": lambda: m(2).new_empty(3), "new_empty_strided": lambda: m(2).new_empty_strided((2, 3), (1, 2)),
    "arange": lambda: torch.arange(5, device="meta"), "arange.start": lambda: torch.arange(1, 5, device="meta"),
    "arange.start_step": lambda: torch.arange(0, 1, 0.25, device="meta"),
    "linspace": lambda: torch.linspace(0, 1, 7, device="meta"), "eye": lambda: torch.eye(3, device="meta"),
    "eye.m": lambda: torch.eye(2, 4, device="meta"), "rand": lambda: torch.rand(2, 3, device="meta"),
    "randn": lambda: torch.randn(4, device="meta", dtype=torch.float64),
    "randint": lambda: torch.randint(5, (3,), device="meta"), "randint.low": lambda: torch.randint(2, 5, (3,), device="meta"),
    "fill.Scalar": lambda: torch.ops.aten.fill.Scalar(m(3), 2), "logical_not": lambda: torch.logical_not(m(3)),
    "error": lambda: torch.ones(3, 4, device="meta").sum(5),  # a mistake is the same mistake on either kernel
}
# each operator in DEVICE_CHECKED with a CPU tensor (refused), a CPU scalar (allowed) and another dtype
for name in sorted(op[len("aten::"):] for op in metakernels.DEVICE_CHECKED):
    packet, _, overload = name.partition(".")
    op = getattr(getattr(torch.ops.aten, packet), overload or "default")
    extra = (0.0,) if packet == "threshold_backward" else ()
    for label, other in (("cpu", lambda: torch.ones(2, 3)), ("scalar", lambda: torch.tensor(2.0)),
                         ("int", lambda: i64(2, 3)), ("broadcast", lambda: m(1, 3))):
        SAMPLES[f"{name} {label}"] = lambda op=op, other=other, extra=extra: op(m(2, 3), other(), *extra)
def outcome(value):
    if isinstance(value, torch.Tensor):
        return [list(value.shape), str(value.dtype), str(value.device)]
    if isinstance(value, (tuple, list)):
        return [outcome(v) for v in value]
    return repr(value)

def run_all(seen=None):
    out = {}
    class Seen(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            seen.setdefault(func.name(), set()).add(key)
            return func(*args, **(kwargs or {}))
    course = CourseDir.open(Path(sys.argv[1]))
    calls = {f"op {name}": sample for name, sample in SAMPLES.items()}
    for ex_id in course.exercise_ids:  # every reference solution's meta cases
        planned = plan(course, ex_id, course.exercise(ex_id), GradeOptions(devices=("cpu", "meta")))
        solution = types.ModuleType(ex_id)
        exec(compile((course.root / "solutions" / f"{ex_id}.py").read_text(), ex_id, "exec"), solution.__dict__)
        for p in planned:
            if p.task.kind != "function" or "meta" not in p.spec.devices:
                continue
            fn = getattr(solution, p.task.reference or p.task.name)
            for n, args in enumerate(p.cases[:p.spec.case_count("meta", len(p.cases))]):
                calls[f"{ex_id}.{p.task.name}.{n}"] = (lambda fn=fn, args=args, grads=p.spec.grads_to:
                    fn(**{k: child._prepare(v, "meta", k in grads) for k, v in args.items()}))
    for key, call in calls.items():
        try:
            if seen is None:
                out[key] = outcome(call())
            else:
                with Seen():
                    out[key] = outcome(call())
        except Exception as exc:
            out[key] = f"raises {type(exc).__name__}"
    return out

seen = {}
before = run_all(seen)
switched = metakernels.use_cpp_kernels()
python_kernels = torch._meta_registrations._meta_lib_dont_use_me_use_register_meta  # those kept
after = run_all()
print(json.dumps({"switched": switched, "before": before, "after": after,
                  "seen": {op: sorted(keys) for op, keys in seen.items()},
                  "python_left": [op for op in seen if torch._C._dispatch_has_kernel_for_dispatch_key(op, "Meta")
                                  and f"aten/{op[6:]}/Meta" in python_kernels._op_impls]}))
'''


def test_meta_checks_run_on_torchs_cpp_meta_kernels_with_the_same_results() -> None:
    """The zygote puts torch's C++ meta kernels back where torch's import registered Python ones
    over them and the verdicts stay the same (`metakernels.use_cpp_kernels`): a child's calls on `meta`
    then cost about what they cost on `cpu` (exercise 3: ~10 ms less a job). Every reference
    solution's `meta` cases, a call of each operator in NATIVE_COMPOSITES and calls of each
    one in DEVICE_CHECKED with a tensor left on the CPU (refused), a CPU scalar, another dtype
    and a broadcast give the same shape, dtype and device, or the same error, before and after;
    each operator named was reached by its sample. Code that leaves a tensor on the CPU fails
    on `meta` as before: tests/scenarios/exercise12/cpu_only_code (`cat`, `addmm` keep torch's
    Python kernels, which check devices)."""
    done = subprocess.run([sys.executable, "-c", META_KERNELS, str(ROOT)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout)
    assert found["switched"] > 200  # pow, sum, mul, ones_like, ...: what exercise 3 calls, and more
    assert found["before"] == found["after"]
    assert sum(key.startswith("exercise") for key in found["before"]) > 50
    assert found["before"]["op error"] == "raises IndexError"
    from grader.boundary.metakernels import DEVICE_CHECKED, NATIVE_COMPOSITES

    for op in NATIVE_COMPOSITES:
        assert f"op {op[6:]}" in found["seen"].get(op, []), f"{op}: its sample does not reach it"
    for op in DEVICE_CHECKED:
        assert f"op {op[6:]} cpu" in found["seen"].get(op, []), f"{op}: its sample does not reach it"
        assert found["before"][f"op {op[6:]} cpu"] == "raises RuntimeError"  # a tensor left on the CPU
        assert found["before"][f"op {op[6:]} scalar"][2] == "meta"  # a CPU scalar is fine
    # exercise 3 runs on C++ kernels only: nothing it calls on meta is left to a Python kernel
    assert not [op for op in found["python_left"] if any(k.startswith("exercise3.") for k in found["seen"][op])]


HALFWAY = r'''
import torch
import torch._meta_registrations as registrations
from grader.boundary import metakernels

before = sorted(registrations._meta_lib_dont_use_me_use_register_meta._op_impls)
impl, calls = torch.library.Library.impl, []
def failing(self, *args, **kwargs):
    calls.append(1)
    if len(calls) == 100:
        raise RuntimeError("a registration that fails halfway")
    return impl(self, *args, **kwargs)
torch.library.Library.impl = failing
switched = metakernels.use_cpp_kernels()
after = sorted(registrations._meta_lib_dont_use_me_use_register_meta._op_impls)
x = torch.ones(3, device="meta")
print(switched, before == after, len(after) > 1000, torch.where(x > 0, x, x).shape == (3,))
'''


def test_a_switch_of_meta_kernels_that_fails_halfway_puts_every_python_kernel_back() -> None:
    """Should a registration fail after torch's Python meta kernels were taken away, they all
    come back as torch had them: no operator is left without a meta kernel (`where` has no
    C++ one), and nothing counts as switched."""
    done = subprocess.run([sys.executable, "-c", HALFWAY], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["0", "True", "True", "True"]
