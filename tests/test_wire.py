"""The result channel's format (grader/boundary/wire.py): what the child sends comes back exactly,
and a frame the harness could not have written is refused before anything is allocated."""

from __future__ import annotations

import json
import math
import struct

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.boundary import messages, wire


def _frame(head: object, raw: bytes = b"") -> bytes:
    text = json.dumps(head).encode()
    return struct.pack("<I", len(text)) + text + raw


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.complex64,
                                   torch.int64, torch.int8, torch.uint8, torch.bool])
def test_tensors_come_back_bit_for_bit(dtype: torch.dtype) -> None:
    t = (torch.randn(3, 4) * 10).to(dtype)
    back = wire.unpack(wire.pack({"t": t}))["t"]
    assert back.dtype == dtype and back.shape == t.shape
    assert torch.equal(back.view(torch.uint8) if dtype != torch.bool else back,
                       t.view(torch.uint8) if dtype != torch.bool else t)


def test_plain_data_round_trips() -> None:
    data = {"a": [1, 2.5, "x", None, True], "tup": (1, (2, "y")), "d": torch.float64,
            "nan": math.nan, "inf": -math.inf, "big": 1 << 80, "text": "ünïcode \ud800 \U0001f600",
            "scalar": torch.tensor(3.5), "empty": torch.zeros(0, 3),
            "strided": torch.arange(12.0).reshape(3, 4).t()}
    back = wire.unpack(wire.pack(data))
    assert back["a"] == [1, 2.5, "x", None, True]
    assert back["tup"] == (1, (2, "y")) and type(back["tup"][1]) is tuple
    assert back["d"] is torch.float64
    assert math.isnan(back["nan"]) and back["inf"] == -math.inf and back["big"] == 1 << 80
    assert back["text"] == "ünïcode \ufffd \U0001f600"  # a lone surrogate is not text: replaced
    assert back["scalar"].shape == () and back["scalar"].item() == 3.5
    assert back["empty"].shape == (0, 3)
    assert torch.equal(back["strided"], data["strided"])


def test_requires_grad_comes_back_only_for_jobs() -> None:
    leaf = torch.ones(2, requires_grad=True)
    assert wire.unpack(wire.pack({"x": leaf}), grads=True)["x"].requires_grad
    assert not wire.unpack(wire.pack({"x": leaf}))["x"].requires_grad


@pytest.mark.parametrize("value", [object(), {1: "int key"}, torch.zeros(2).to_sparse(), {"$t": [1]},
                                   torch.zeros(2, device="meta"), b"bytes"])
def test_only_plain_data_can_be_sent(value: object) -> None:
    with pytest.raises(wire.WireError):
        wire.pack({"v": value})


@pytest.mark.parametrize("frame", [
    b"\x01\x00",                                                              # shorter than its header
    struct.pack("<I", 100) + b"{}",                                           # header longer than the frame
    _frame({"$t": ["float32", [1 << 26, 1 << 26], 0, 8, False]}, b"\0" * 8),  # claims 2^52 elements
    _frame({"$t": ["float32", [4], 0, 16, False]}, b"\0" * 8),                # bytes missing
    _frame({"$t": ["float32", [3], 0, 16, False]}, b"\0" * 16),               # size does not match
    _frame({"$t": ["object", [1], 0, 8, False]}, b"\0" * 8),                  # not a dtype
    _frame({"$t": ["float32", [-1], 0, 0, False]}),                           # negative size
    _frame({"$t": ["float32", [1], -4, 4, False]}, b"\0" * 8),                # negative offset
    _frame({"$t": "float32"}),                                                # malformed entry
    _frame({"$dtype": "not_a_dtype"}),
    struct.pack("<I", 5) + b"\xff\xfe{}}",                                    # not UTF-8 JSON
    _frame({"a": json.loads("[" * 50 + "]" * 50)}),                                # nested beyond any message
])
def test_frames_the_harness_cannot_write_are_refused(frame: bytes) -> None:
    with pytest.raises(wire.FrameError):
        messages.read(frame, 2)


def test_a_deeply_nested_frame_does_not_crash_the_reader() -> None:
    text = ("[" * 200_000 + "]" * 200_000).encode()
    with pytest.raises(wire.FrameError):
        wire.unpack(struct.pack("<I", len(text)) + text)


# ---------------------------------------------------------------- the child's messages (messages.py)

def _call(value: object = None, **extra: object) -> dict[str, object]:
    out = {"kind": "tensor", "shape": [2], "dtype": "float32", "device": "cpu", "requires_grad": False,
           "has_grad_fn": False, "value": torch.zeros(2) if value is None else value}
    return {"status": "ok", "autograd": True, "forbidden": [], "output": out,
            "inputs_after": {"x": {"kind": "py", "value": 1 << 400}}, **extra}


HONEST = [
    {"event": "loaded"},
    {"event": "start", "task": 1},
    {"event": "done", "task": 1, "result": {"devices": {"cpu": [_call(), _call(second=None)], "meta": []}}},
    {"event": "done", "task": 0, "result": {"answer": {"kind": "seq", "type": "tuple", "items": [
        {"kind": "py", "value": math.inf}, {"kind": "dtype", "value": "float32"},
        {"kind": "other", "type": "x" * 5000}]}}},
    {"event": "done", "task": 0, "result": {"missing": "f is not defined in your file"}},
    {"event": "import_error", "exception": {"type": "ValueError", "message": "\ud800", "traceback": "",
                                            "not_implemented": False}},
]


@pytest.mark.parametrize("message", HONEST, ids=[m["event"] for m in HONEST])
def test_what_the_harness_sends_passes_the_schema(message: dict[str, object]) -> None:
    back = messages.read(wire.pack(message), 2)
    assert back["event"] == message["event"] and back.keys() == message.keys()


@pytest.mark.parametrize("message, problem", [
    ({"event": "start", "task": 2}, "message.task: expected a task number from 0 to 1"),
    ({"event": "start", "task": True}, "message.task: expected a task number"),
    ({"event": "loaded", "extra": 1}, "message: unexpected field 'extra'"),
    ({"event": "started"}, "not a message the grader's harness sends"),
    ({"event": "done", "task": 0, "result": {"devices": {"cpu": [_call(torch.zeros(3))]}}},
     "message.result.devices['cpu'][0].output.value: the tensor's shape or dtype is not the one described"),
    ({"event": "done", "task": 0, "result": {"devices": {"cpu": [{**_call(), "status": "fine"}]}}},
     "message.result.devices['cpu'][0].status: expected one of ok, error"),
    ({"event": "done", "task": 0, "result": {"missing": "x", "answer": {"kind": "py", "value": 1}}},
     "message.result: expected exactly one of missing, answer, devices"),
    ({"event": "done", "task": 0, "result": {"answer": {"kind": "py", "value": [1]}}},
     "message.result.answer.value: expected text"),
    ({"event": "import_error", "exception": {"type": "E" * 201, "message": "", "traceback": "",
                                             "not_implemented": False}},
     "message.exception.type: text longer than 200 characters"),
])
def test_a_message_off_its_schema_says_what_is_wrong(message: dict[str, object], problem: str) -> None:
    with pytest.raises(wire.FrameError) as info:
        messages.read(wire.pack(message), 2)
    assert str(info.value).startswith(problem), str(info.value)


def test_tensor_entries_may_not_share_bytes_and_a_job_has_a_byte_budget() -> None:
    blob = bytes(1 << 20)
    entry = {"$t": ["float32", [1 << 18], 0, 1 << 20, False]}
    with pytest.raises(wire.FrameError, match="overlap"):
        wire.unpack(_frame([entry, entry], blob))
    budget = wire.Budget(3 << 20)
    wire.unpack(wire.pack([torch.zeros(1 << 18)] * 2), budget=budget)  # 2 MiB of 3
    with pytest.raises(wire.FrameError, match="exceed 3 MiB"):
        wire.unpack(wire.pack([torch.zeros(1 << 18)] * 2), budget=budget)
    with pytest.raises(wire.FrameError, match="after the last tensor"):
        wire.unpack(wire.pack([torch.zeros(2)]) + b"\0")


# ---------------------------------------------------------------- property tests: only FrameError comes out

def _read_bounded(frame: bytes) -> None:
    """messages.read gives a checked message or a FrameError; what it holds while reading is
    a small multiple of the frame (never a copy per tensor entry)."""
    import tracemalloc

    tracemalloc.start()
    try:
        messages.read(frame, 3, wire.Budget(1 << 30))
    except wire.FrameError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak <= 64 * len(frame) + (1 << 20), (peak, len(frame))


@given(st.binary(max_size=2000))
@settings(max_examples=300, deadline=None)
def test_random_bytes_only_raise_frame_error(data: bytes) -> None:
    _read_bounded(data)
    _read_bounded(struct.pack("<I", len(data)) + data)


_SEEDS = [wire.pack(m) for m in HONEST]


@given(st.sampled_from(_SEEDS), st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255),
                                                   st.sampled_from(["flip", "insert", "delete", "cut"])),
                                         min_size=1, max_size=8))
@settings(max_examples=400, deadline=None)
def test_mutated_frames_only_raise_frame_error(seed: bytes, edits: list[tuple[int, int, str]]) -> None:
    frame = bytearray(seed)
    for where, byte, how in edits:
        at = where % (len(frame) + 1)
        if how == "flip" and at < len(frame):
            frame[at] = byte
        elif how == "insert":
            frame[at:at] = bytes([byte])
        elif how == "delete":
            del frame[at:at + 1]
        else:
            del frame[at:]
    _read_bounded(bytes(frame))


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                         st.sampled_from(["event", "task", "result", "devices", "cpu", "kind", "value", "shape",
                                          "$t", "$tuple", "$dtype", "status", "output", "x"]), inner, max_size=4),
                     max_leaves=30)


@given(_JSON, st.binary(max_size=64))
@settings(max_examples=200, deadline=None)
def test_arbitrary_json_only_raises_frame_error(head: object, raw: bytes) -> None:
    text = json.dumps(head).encode()
    _read_bounded(struct.pack("<I", len(text)) + text + raw)
