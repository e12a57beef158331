"""`grade exercise3` cold (full marks) versus `python -c "import torch"`: median of 5 each.

    python benchmarks/cold_start.py [--runs 5] [--quick]

The two commands are run alternately so that both see the same machine load. Then one
`python -X importtime` run shows where the grader's own start-up goes (imports other than
torch), and the remainder is the grading itself (forking the child, the student's code on
cpu and meta, the references, the table). Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


CPU: dict[str, list[float]] = {}


def timed(cmd: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> float:
    """Wall seconds of one run; its CPU seconds (with its children's) go to CPU[cmd[-1]]."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in ok:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    CPU.setdefault(cmd[-1], []).append(cpu)
    return seconds


GROUPS = ("torch", "torch.fx.experimental.symbolic_shapes", "pydantic", "pydantic_core", "yaml", "rich",
          "click", "psutil", "watchfiles", "matplotlib", "junitparser", "numpy")


def import_breakdown(cmd: list[str], cwd: Path) -> tuple[dict[str, float], float, float]:
    """Seconds spent importing each package of GROUPS (outermost imports only, wherever they
    were triggered) and in the grader's own modules, in one run of `cmd`; its wall time; and
    all import time."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-X", "importtime", *cmd[1:]], cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if m:
            rows.append((len(m.group(3)) // 2, m.group(4), int(m.group(1)) / 1e6, int(m.group(2)) / 1e6))

    def group(name: str) -> str | None:
        best = None
        for g in GROUPS:
            if (name == g or name.startswith(g + ".")) and (best is None or len(g) > len(best)):
                best = g
        return best or ("grader (own code)" if name.split(".")[0] == "grader" else None)

    # importtime prints a module after the modules it imported: walk backwards with a stack of parents
    totals: dict[str, float] = {}
    stack: list[tuple[int, str | None]] = []
    for depth, name, self_s, cumulative in reversed(rows):
        while stack and stack[-1][0] >= depth:
            stack.pop()
        g = group(name)
        inherited = next((pg for _, pg in reversed(stack) if pg is not None), None)
        if g == "grader (own code)":
            totals[g] = totals.get(g, 0.0) + self_s
        elif g is not None and inherited is None:  # outermost: nested packages count in their importer
            totals[g] = totals.get(g, 0.0) + cumulative
        stack.append((depth, g if g != "grader (own code)" else None))
    all_imports = sum(cum for depth, _, _, cum in rows if depth == 0)
    return totals, wall, all_imports


def main() -> None:
    from batch import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="CI smoke run: 2 runs each")
    args = parser.parse_args()
    runs = 2 if args.quick else args.runs
    print(machine())
    with tempfile.TemporaryDirectory(prefix="grade-cold-") as tmp:
        ws = Path(tmp) / "workspace"
        ws.mkdir()
        (ws / "exercise3.py").write_text((ROOT / "solutions" / "exercise3.py").read_text())
        torch_cmd = [sys.executable, "-c", "import torch"]
        grade_cmd = [sys.executable, "-m", "grader", "exercise3", "--workspace", str(ws), "--course", str(ROOT)]
        timed(grade_cmd, ROOT)  # once, so that both start from a warm page cache
        CPU.clear()
        bare_cmd = [sys.executable, "-c", "import torch, os; os._exit(0)"]
        torch_s, grade_s, bare_s = [], [], []
        for _ in range(runs):
            torch_s.append(timed(torch_cmd, ROOT))
            grade_s.append(timed(grade_cmd, ROOT))
            bare_s.append(timed(bare_cmd, ROOT))
        t, g, b = statistics.median(torch_s), statistics.median(grade_s), statistics.median(bare_s)
        print(f'python -c "import torch": median {t:.2f} s of {runs} ({", ".join(f"{x:.2f}" for x in torch_s)})')
        print(f"grade exercise3 (full marks): median {g:.2f} s of {runs} ({', '.join(f'{x:.2f}' for x in grade_s)})")
        print(f"ratio: {g / t:.2f}x (target 1.2x)")
        # grade skips the interpreter's teardown (os._exit once the report is out); so does this baseline
        print(f'against import torch without the teardown (python -c "import torch, os; os._exit(0)", median '
              f"{b:.2f} s): {g / b:.2f}x")
        tc, gc = statistics.median(CPU[torch_cmd[-1]]), statistics.median(CPU[grade_cmd[-1]])
        print(f"CPU seconds (less sensitive to a busy machine; grade's own processes only: its sandbox, which "
              f"imports torch a second time on the other core, is not counted): "
              f"import torch {tc:.2f} s, grade exercise3 {gc:.2f} s, ratio {gc / tc:.2f}x")
        totals, wall, all_imports = import_breakdown(grade_cmd, ROOT)
    print(f"where the time goes in one run under -X importtime ({wall:.2f} s wall, {all_imports:.2f} s of imports):")
    for name, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        if seconds >= 0.005:
            print(f"  import {name:40s} {seconds:6.2f} s")
    print(f"  everything else (interpreter start, YAML, fork, the child, references, verdicts, the table) "
          f"{max(0.0, wall - all_imports):6.2f} s")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
