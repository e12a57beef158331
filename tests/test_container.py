"""Root in a container without CAP_SYS_ADMIN (how Gradescope and most CI runners start an
autograder), simulated for real: `capsh --drop=cap_sys_admin` and Docker's seccomp rules
for namespaces (`tests/container.py`). bubblewrap cannot start there and no namespace can
be made, so the grader must still give every child an unused uid (never uid 0, no
capability), or refuse with exit code 2 and say how to get isolation.

`.ci/run` also runs the hostile suite's `container` tests inside that container.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from grader.boundary import confine

HOSTILE = Path(__file__).resolve().parent / "hostile"
CONTAINER = Path(__file__).resolve().parent / "container.py"

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("capsh") is None,
                                reason="needs root and capsh (Debian: libcap2-bin)")


def in_container(args: list[str], cwd: Path, drop: str = "cap_sys_admin",
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = " ".join(f"'{a}'" for a in [sys.executable, str(CONTAINER), sys.executable, "-m", "grader", *args])
    return subprocess.run(["capsh", f"--drop={drop}", "--", "-c", command], capture_output=True, text=True,
                          timeout=600, cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def test_hostile_submissions_in_a_container_without_cap_sys_admin(tmp_path: Path) -> None:
    """One `grade batch`: a submission looking for uid 0 and planting modules in the course and
    next to the grader, two students leaving System V shared memory for the next one, one
    making denied system calls, one hunting the references after killing its first child.
    Each scores what it earns, in process mode with a uid of its own, and nothing is left on
    the host (ctypes and the garbage collector's objects are refused to graded code first;
    the system call filter under that is tested in test_sandbox.py)."""
    names = ["ex3_root_and_plant", "ex3_shm_leftover", "ex3_shm_leftover_2", "ex3_denied_syscalls",
             "ex3_hunt_after_kill"]
    subs = tmp_path / "subs"
    for name in names:
        (subs / name).mkdir(parents=True)
        shutil.copy(HOSTILE / f"{name.removesuffix('_2')}.py", subs / name / "exercise3.py")
    shm_before = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    proc = in_container(["batch", str(subs), "--out", str(tmp_path / "grades"), "--course", str(ROOT), "-j", "1",
                         "--devices", "cpu,meta", "--timeout", "5"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    reports = {name: json.loads((tmp_path / "grades" / f"{name}.json").read_text()) for name in names}
    for data in reports.values():
        assert data["isolation"] == "process"
    plant = reports["ex3_root_and_plant"]
    assert plant["score"] == 6.0 and "root: none; capabilities: none" in plant["output"]
    assert "planted: nowhere" in plant["output"]
    assert not (ROOT / "rich.py").exists() and not (ROOT / "grader" / "matplotlib.py").exists()
    assert reports["ex3_hunt_after_kill"]["score"] == 0.0
    assert any("gc.get_objects is not allowed" in t["feedback"] for t in reports["ex3_hunt_after_kill"]["tasks"])
    for name in ("ex3_shm_leftover", "ex3_shm_leftover_2", "ex3_denied_syscalls"):  # the walls under: test_sandbox
        assert reports[name]["score"] == 0.0
        assert "ctypes.dlopen is not allowed" in reports[name]["tasks"][0]["feedback"], name
    assert Path("/proc/sysvipc/shm").read_text().splitlines()[1:] == shm_before
    leftovers = [p for p in Path("/tmp").iterdir() if p.lstat().st_uid in confine.JOB_UIDS]
    assert not leftovers


def test_root_that_cannot_change_uid_refuses_with_a_way_out(tmp_path: Path) -> None:
    """Without CAP_SETUID every child would stay root: exit code 2, one message naming the
    Docker flags and GRADER_ISOLATION=none, no report, no traceback."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    shutil.copy(ROOT / "solutions" / "exercise3.py", workspace / "exercise3.py")
    proc = in_container(["exercise3", "--course", str(ROOT), "--workspace", str(workspace), "--format", "json"],
                        tmp_path, drop="cap_sys_admin,cap_setuid,cap_setgid")
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert "--cap-add SYS_ADMIN" in proc.stderr and "--privileged" in proc.stderr
    assert "GRADER_ISOLATION=none" in proc.stderr
    opted_out = in_container(["exercise3", "--course", str(ROOT), "--workspace", str(workspace), "--format", "json"],
                             tmp_path, drop="cap_sys_admin,cap_setuid,cap_setgid", env={"GRADER_ISOLATION": "none"})
    data = json.loads(opted_out.stdout)
    assert opted_out.returncode == 0 and data["isolation"] == "none" and data["score"] == data["max_score"]
