"""`grade watch exercise3`: seconds from a save to the new table, after the first run.

    python benchmarks/watch.py [--saves 8] [--quick]

Starts `grade watch` on a workspace, waits for the first table, then saves the file
alternately with the reference solution and the analytic formula, and times each save
until the watcher prints its "graded in" line (file-watcher delay included). Prints the
median and range; the target is under 0.3 s. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    from batch import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="CI smoke run: 2 saves")
    args = parser.parse_args()
    saves = 2 if args.quick else args.saves
    print(machine())
    versions = [(ROOT / "solutions" / "exercise3.py").read_text(),
                (ROOT / "tests" / "scenarios" / "exercise3" / "analytic_formula" / "submission.py").read_text()]
    with tempfile.TemporaryDirectory(prefix="grade-watch-") as tmp:
        ws = Path(tmp)
        target = ws / "exercise3.py"
        target.write_text(versions[1])
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", "NO_COLOR": "1"}
        proc = subprocess.Popen([sys.executable, "-m", "grader", "watch", "exercise3", "--workspace", str(ws),
                                 "--course", str(ROOT)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=env)
        lines: queue.Queue[str] = queue.Queue()
        assert proc.stdout is not None
        stdout = proc.stdout
        def pump() -> None:
            for line in stdout:
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()

        def next_report(deadline: float = 120.0) -> str:
            end = time.monotonic() + deadline
            while True:
                line = lines.get(timeout=max(0.1, end - time.monotonic()))
                if "graded in" in line:
                    return line.strip()

        started = time.perf_counter()
        first = next_report()
        print(f"first run (cold start included): {time.perf_counter() - started:.2f} s; {first}")
        latencies, internal = [], []
        try:
            for i in range(saves):
                time.sleep(0.5)  # a human does not save twice in 50 ms
                t0 = time.perf_counter()
                target.write_text(versions[i % 2])
                line = next_report()
                latencies.append(time.perf_counter() - t0)
                internal.append(float(line.split("graded in ")[1].split(" s")[0]))
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"re-grade after a save, {saves} saves: median {statistics.median(latencies):.3f} s "
          f"(min {min(latencies):.3f}, max {max(latencies):.3f}; target < 0.3 s), of which grading and the table "
          f"{statistics.median(internal):.3f} s and noticing the save the rest")


if __name__ == "__main__":
    main()
