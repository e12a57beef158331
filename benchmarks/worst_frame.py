"""The grader's peak memory while reading the worst result frames a child can write.

    python benchmarks/worst_frame.py [--quick]

Each frame is as large as the channel allows (64 MiB) and built to make the reader
allocate: tensor entries that all alias the same bytes, the most JSON values one
frame may hold, and an honest frame carrying one 64 MiB tensor. Each is read in a
fresh process (`messages.read`, as the runner does after copying the frame out of
its buffer); prints the verdict and the peak RSS above what the process held
before reading (the frame itself included in that baseline).
Asserts nothing (--quick: frames of 16 MiB).
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import struct


def _frames(size: int) -> dict[str, bytes]:
    import torch

    from grader.boundary import wire

    def frame(head: object, raw: bytes = b"") -> bytes:
        text = json.dumps(head).encode()
        return struct.pack("<I", len(text)) + text + raw

    record = {"status": "ok", "output": {"kind": "tensor", "shape": [size // 4], "dtype": "float32", "device": "cpu",
                                         "requires_grad": False, "has_grad_fn": False,
                                         "value": {"$t": ["float32", [size // 4], 0, size, False]}}}
    many = (b"[" + b",".join([b"{}"] * (wire.MAX_VALUES - 2)) + b"]")
    return {
        "aliased tensors (400 entries)": frame({"event": "done", "task": 0,
                                                "result": {"devices": {"cpu": [record] * 400}}}, bytes(size)),
        "most JSON values (empty dicts)": struct.pack("<I", len(many)) + many,
        "one honest tensor": wire.pack({"event": "done", "task": 0, "result": {"devices": {"cpu": [
            {"status": "ok", "output": {"kind": "tensor", "shape": [size // 4], "dtype": "float32", "device": "cpu",
                                        "requires_grad": False, "has_grad_fn": False,
                                        "value": torch.zeros(size // 4)}}]}}}),
    }


def _measure(name: str, size: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from grader.boundary import messages, wire

    frame = _frames(size)[name]
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak (VmHWM) to what is resident now
    base = _status_kb("VmRSS")
    try:
        message = messages.read(frame, 1, wire.Budget(1 << 30))
        verdict = "accepted"
    except wire.FrameError as exc:
        message, verdict = None, f"refused: {exc}"
    out.put((len(frame), verdict, (_status_kb("VmHWM") - base) / 1024))
    del message


def _status_kb(key: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    size = (16 if args.quick else 64) << 20
    size -= 1 << 20  # room for the JSON of the message in the channel's 64 MiB
    ctx = multiprocessing.get_context("spawn")
    for name in _frames(1024):
        queue = ctx.Queue()
        proc = ctx.Process(target=_measure, args=(name, size, queue))
        proc.start()
        length, verdict, mib = queue.get()
        proc.join()
        print(f"{name}: frame {length / (1 << 20):.1f} MiB, {verdict[:90]}; peak RSS above baseline {mib:.0f} MiB")


if __name__ == "__main__":
    main()
