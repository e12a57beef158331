"""The GPU check: every reference solution on every device, in each isolation mode, and what
checking `cuda` costs.

    python benchmarks/gpu.py [--copies 24]

Run it on a machine with an NVIDIA GPU (CI has none). For each isolation mode this machine
can run (`bwrap` when bubblewrap starts, `process`), `grade check` grades each exercise's
reference solution, as a student would submit it, on every available device (`cpu`,
`cuda`, `meta`) and must give full marks; its table and any problem are printed. Then, in
the default mode, cold `grade exercise3` with and without `cuda` (median of 3 each), and
`grade batch` on `--copies` copies of the reference with and without `cuda`, per
submission. Prints numbers and what failed; asserts nothing. Without CUDA it says so and
stops.

On this project's lent H200 (no network, Python packages from wheels carried along):
`pip install --no-deps .whl/*.whl` (pydantic, pydantic-core, annotated-types,
typing-inspection, watchfiles, pyseccomp for the machine's Python), `PYTHONPATH=$PWD`,
bubblewrap copied in on PATH, then this script.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRADE = [sys.executable, "-m", "grader"]


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    proc = subprocess.run([*GRADE, *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=900)
    return time.perf_counter() - started, proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=24)
    args = parser.parse_args()

    import torch

    if not torch.cuda.is_available():
        print(f"no CUDA here (torch {torch.__version__}): nothing to check")
        return
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}, {os.cpu_count()} cores")

    modes = ["process"] + (["bwrap"] if shutil.which("bwrap") else [])
    for mode in modes:
        seconds, proc = run(["check"], {"GRADER_ISOLATION": mode})
        print(f"\n== grade check, isolation {mode}: exit {proc.returncode} in {seconds:.1f} s")
        print(proc.stdout[-6000:])
        if proc.returncode:
            print(proc.stderr[-4000:])

    with tempfile.TemporaryDirectory(prefix="grade-gpu-") as tmp:
        workspace = Path(tmp) / "ws"
        workspace.mkdir()
        shutil.copy(ROOT / "solutions" / "exercise3.py", workspace / "exercise3.py")
        for devices in ("cpu,meta", "cpu,cuda,meta"):
            times = [run(["exercise3", "--workspace", str(workspace), "--devices", devices])[0] for _ in range(3)]
            print(f"grade exercise3 cold, --devices {devices}: median {statistics.median(times):.2f} s "
                  f"({', '.join(f'{t:.2f}' for t in times)})")
        klass = Path(tmp) / "class"
        for i in range(args.copies):
            (klass / f"s{i:03d}").mkdir(parents=True)
            shutil.copy(ROOT / "solutions" / "exercise3.py", klass / f"s{i:03d}" / "exercise3.py")
        for devices in ("cpu,meta", "cpu,cuda,meta"):
            seconds, proc = run(["batch", str(klass), "--devices", devices, "--out", str(Path(tmp) / devices),
                                 "--no-progress"])
            summary = re.search(r"graded \d+ student\(s\).*", proc.stdout + proc.stderr)
            print(f"grade batch, {args.copies} copies, --devices {devices}: exit {proc.returncode}, "
                  f"{seconds:.1f} s end to end = {1000 * seconds / args.copies:.0f} ms per submission; "
                  f"{summary.group(0) if summary else proc.stderr[-1000:]}")


if __name__ == "__main__":
    main()
