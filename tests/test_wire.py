"""The result channel's format (grader/wire.py): what the child sends comes back exactly,
and a frame the harness could not have written is refused before anything is allocated."""

from __future__ import annotations

import json
import math
import struct

import pytest
import torch

from grader import runner, wire


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
            "nan": math.nan, "inf": -math.inf, "big": 1 << 80, "text": "ünïcode \ud800",
            "scalar": torch.tensor(3.5), "empty": torch.zeros(0, 3),
            "strided": torch.arange(12.0).reshape(3, 4).t()}
    back = wire.unpack(wire.pack(data))
    assert back["a"] == [1, 2.5, "x", None, True]
    assert back["tup"] == (1, (2, "y")) and type(back["tup"][1]) is tuple
    assert back["d"] is torch.float64
    assert math.isnan(back["nan"]) and back["inf"] == -math.inf and back["big"] == 1 << 80
    assert back["text"] == "ünïcode \ud800"
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
    assert runner._decode(frame) is None


def test_a_deeply_nested_frame_does_not_crash_the_reader() -> None:
    text = ("[" * 200_000 + "]" * 200_000).encode()
    assert runner._decode(struct.pack("<I", len(text)) + text) is None
