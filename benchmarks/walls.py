"""What each per-job wall costs, in ms per job: children forked from a warm process (torch
imported, as the zygote has it) that build one wall more each time, then exit.

    python benchmarks/walls.py [--jobs 40] [--quick]

Rows: a plain fork and exit (the floor), then + a PID namespace (process 1 of its own),
+ mount and IPC namespaces, + a /proc of its own, + the system call filter (loaded), +
leaving root for an unused uid, + a cgroup v2 per job (where the grader can make one). Each
row is the median of `--jobs` children; the cost of a wall is its row minus the row above.
Then the rows again after the heap is moved onto huge pages, as a batch's zygote does.
Needs root for the namespace rows (skipped otherwise). Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.boundary import confine  # noqa: E402


def one_job(steps: list[str], flt: confine.SeccompFilter, groups: confine.JobCgroups | None, serial: int) -> float:
    """Seconds from fork to the child's exit being reaped, with `steps` built in the child."""
    group = groups.new_job(256, 64) if groups is not None and "cgroup" in steps else None
    started = time.perf_counter()
    pid = confine.fork_into_new_pid_namespace() if "pid" in steps else os.fork()
    if pid == 0:
        code = 0
        try:
            if group is not None:
                confine.join_cgroup(group[1])
            if "mount+ipc" in steps:
                confine.unshare(confine.CLONE_NEWNS | confine.CLONE_NEWIPC)
                confine.private_mounts()
            if "proc" in steps:
                confine.mount_proc()
            if "uid" in steps:
                uid = confine.job_uid(os.getpid(), serial)
                confine.drop_capabilities_bounding()
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
            if "seccomp" in steps:
                confine.set_no_new_privs()
                flt.load()
        except BaseException:  # noqa: BLE001
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    seconds = time.perf_counter() - started
    if group is not None:
        os.close(group[1])
        groups.end_job(group[0])  # type: ignore[union-attr]
    if status != 0:
        raise SystemExit(f"a child with {steps} failed: status {status}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="10 jobs per row")
    args = parser.parse_args()
    jobs = 10 if args.quick else args.jobs
    import torch  # the zygote's size: forking a process that holds torch is what costs

    torch.zeros(1)
    flt = confine.SeccompFilter(deny_sysv_ipc=False)
    groups = confine.JobCgroups.create() if os.geteuid() == 0 else None
    rows = [["fork"], ["pid"], ["pid", "mount+ipc"], ["pid", "mount+ipc", "proc"],
            ["pid", "mount+ipc", "proc", "seccomp"], ["pid", "mount+ipc", "proc", "seccomp", "uid"],
            ["pid", "mount+ipc", "proc", "seccomp", "uid", "cgroup"]]
    previous = None
    measured: dict[str, float] = {}
    print(f"{'walls':48} {'ms/job':>8} {'added':>8}")
    for steps in rows:
        if os.geteuid() != 0 and steps != ["fork"]:
            print(f"{' + '.join(steps):48} {'(needs root)':>8}")
            continue
        if "seccomp" in steps and not flt.available:
            print(f"{' + '.join(steps):48} {'(' + flt.missing + ')'}")
            break
        if "cgroup" in steps and groups is None:
            print(f"{' + '.join(steps):48} {'(no cgroup v2 with memory and pids for this process here)'}")
            break
        ms = statistics.median(one_job(steps, flt, groups, i + 1) for i in range(jobs)) * 1000
        added = f"{ms - previous:+8.2f}" if previous is not None else ""
        print(f"{' + '.join(steps):48} {ms:8.2f} {added}")
        previous = measured[" + ".join(steps)] = ms
    # what a batch's zygote does before it forks: its heap on huge pages (fewer page tables to copy)
    collapsed = confine.collapse_into_huge_pages()
    print(f"after collapse_into_huge_pages ({collapsed >> 20} MiB of the heap on huge pages):")
    for name, ms in measured.items():
        steps = name.split(" + ")
        again = statistics.median(one_job(steps, flt, groups, jobs + i + 1) for i in range(jobs)) * 1000
        print(f"{name:48} {again:8.2f} {again - ms:+8.2f} (was {ms:.2f})")
    if groups is not None:
        groups.close()


if __name__ == "__main__":
    main()
