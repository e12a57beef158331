"""The bytes that travel between the grader and the processes that run student code.

A frame carries plain data (dicts with str keys, lists, tuples, str, numbers,
bools, None, torch dtypes) and dense tensors, and nothing else:

    payload = uint32 JSON length | JSON | the tensors' raw bytes, one after another

A tensor is written in the JSON as `{"$t": [dtype, shape, offset, nbytes, requires_grad]}`
and its bytes at `offset` of the raw part; a dtype as `{"$dtype": "float32"}`, a
tuple as `{"$tuple": [...]}`. Reading a frame parses JSON and copies bytes into
fresh tensors: no pickle, no zip archive, no code, and every size is checked
against the frame before anything is allocated. Reading is strict, because the
child runs student code: the text part is bounded in bytes and in values, text
that is not Unicode scalar values is replaced (U+FFFD), the tensor entries must
tile the raw part exactly (disjoint, in order, nothing left over, so no byte is
copied twice), and a `Budget` caps what all frames of one job decode. Every
problem is a `FrameError`, the only exception `unpack` raises. It is also fast: decoding a
frame costs well under a millisecond, where `torch.load` took several.

The child (`child.py`) writes its results this way; the runner (`runner.py`)
reads them; the sandbox sends each job to its zygote in the same format.
"""

from __future__ import annotations

import ctypes
import json
import math
import re
import struct
from typing import Any

import torch

LENGTH = struct.Struct("<I")
MAX_ELEMENTS = 1 << 26
"""No tensor in a frame may claim more elements than this (its bytes must be there too)."""
MAX_HEAD = 16 << 20
"""Bytes of JSON in one frame (tensor bytes travel apart and do not count)."""
MAX_VALUES = 1 << 18
"""JSON values in one frame: bounds the memory the parsed text takes, whatever its shape."""
MAX_NEST = 200
"""JSON nesting (`pack` refuses data deeper than 64 levels; a tuple is two JSON levels)."""
_SURROGATE = re.compile("[\ud800-\udfff]")

_DTYPES: dict[str, torch.dtype] = {
    name: dt for name in (
        "float16", "bfloat16", "float32", "float64", "complex64", "complex128", "bool",
        "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64",
        "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "complex32",
    ) if isinstance(dt := getattr(torch, name, None), torch.dtype)
}
_NAMES = {dt: name for name, dt in _DTYPES.items()}
_TAGS = ("$t", "$dtype", "$tuple")

# Bound at import, before any student code runs in a child.
_type = type
_Tensor = torch.Tensor
_dtype_cls = torch.dtype
_TensorBase = torch._C.TensorBase
_shape_of = _TensorBase.__dict__["shape"].__get__
_dtype_of = _TensorBase.__dict__["dtype"].__get__
_device_of = _TensorBase.__dict__["device"].__get__
_layout_of = _TensorBase.__dict__["layout"].__get__
_requires_grad_of = _TensorBase.__dict__["requires_grad"].__get__
_is_quantized = _TensorBase.__dict__["is_quantized"].__get__
_is_contiguous = _TensorBase.is_contiguous
_contiguous = _TensorBase.contiguous
_data_ptr = _TensorBase.data_ptr
_numel = _TensorBase.numel
_element_size = _TensorBase.element_size
_strided = torch.strided
_string_at = ctypes.string_at
_dumps = json.dumps
_len = len
_str = str
_list = list
_tuple = tuple
_dict = dict
_PLAIN = (str, int, float, bool, _type(None))
_join = b"".join
_pack_length = LENGTH.pack


class WireError(ValueError):
    """Something that is not plain data was given to `pack`."""


class FrameError(ValueError):
    """A frame `pack` could not have made, or one over a limit: what `unpack` raises, and nothing else."""


class Budget:
    """The bytes all frames of one job may decode together (JSON text and tensor bytes), so a
    child cannot make the grader hold more than this however many frames it sends."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, nbytes: int) -> None:
        self.used += nbytes
        if self.used > self.limit:
            raise FrameError(f"the results sent back exceed {self.limit >> 20} MiB in all; return smaller values")


def text(value: str) -> str:
    """`value` as Unicode scalar values: each lone surrogate (which no UTF-8 encoder, terminal,
    JSON or XML writer accepts) becomes U+FFFD."""
    return value if value.isascii() else _SURROGATE.sub("\ufffd", value)


def sendable(t: torch.Tensor) -> bool:
    """Whether `pack` can carry this tensor: dense, strided, on the CPU, of a plain dtype."""
    return (_type(t) is _Tensor and _layout_of(t) is _strided and not _is_quantized(t)
            and _str(_device_of(t)) == "cpu" and _dtype_of(t) in _NAMES)


def pack(data: Any) -> bytes:
    """Plain data and CPU tensors -> one frame payload. Raises WireError on anything else."""
    blobs: list[bytes] = []
    offset = 0

    def walk(value: Any, depth: int) -> Any:
        nonlocal offset
        if depth > 64:
            raise WireError("nested too deeply")
        t = _type(value)
        if t in _PLAIN:
            return value
        if t is _dict:
            if _len(value) == 1 and next(iter(value)) in _TAGS:
                raise WireError(f"a dict with the single key {next(iter(value))!r} cannot be sent")
            out = {}
            for k, v in value.items():
                if _type(k) is not _str:
                    raise WireError(f"dict key {k!r} is not a str")
                out[k] = walk(v, depth + 1)
            return out
        if t is _list:
            return [walk(v, depth + 1) for v in value]
        if t is _tuple:
            return {"$tuple": [walk(v, depth + 1) for v in value]}
        if t is _dtype_cls:
            if value not in _NAMES:
                raise WireError(f"dtype {value} cannot be sent")
            return {"$dtype": _NAMES[value]}
        if t is _Tensor:
            if not sendable(value):
                raise WireError("only dense CPU tensors of a plain dtype can be sent")
            if not _is_contiguous(value):
                value = _contiguous(value)
            nbytes = _numel(value) * _element_size(value)
            blobs.append(_string_at(_data_ptr(value), nbytes) if nbytes else b"")
            ref = [_NAMES[_dtype_of(value)], [int(d) for d in _shape_of(value)], offset, nbytes,
                   bool(_requires_grad_of(value))]
            offset += nbytes
            return {"$t": ref}
        raise WireError(f"a {t.__name__} cannot be sent")

    head = _dumps(walk(data, 0), separators=(",", ":")).encode("utf-8", "surrogatepass")
    return _join([_pack_length(_len(head)), head, *blobs])


def unpack(payload: bytes | bytearray | memoryview, *, grads: bool = False, budget: Budget | None = None) -> Any:
    """The inverse of `pack`. Raises FrameError (only) on any frame `pack` could not have made.
    With `grads`, tensors sent with requires_grad get it back (a job's inputs); otherwise
    (results from student code) every tensor comes back as plain data. `budget` counts the
    bytes decoded against the job's cap before anything is allocated."""
    try:
        view = memoryview(payload).cast("B")
    except (TypeError, ValueError):
        raise FrameError("not a byte string") from None
    if _len(view) < LENGTH.size:
        raise FrameError("frame too short")
    (n,) = LENGTH.unpack_from(view)
    if LENGTH.size + n > _len(view):
        raise FrameError("frame shorter than its header says")
    if n > MAX_HEAD:
        raise FrameError(f"more than {MAX_HEAD >> 20} MiB of text in one message")
    head = bytes(view[LENGTH.size:LENGTH.size + n])
    if head.count(b",") + head.count(b":") >= MAX_VALUES:
        raise FrameError(f"more than {MAX_VALUES} values in one message")
    if budget is not None:
        budget.take(n)
    try:
        data = json.loads(head.decode("utf-8", "replace"))
    except (ValueError, RecursionError):  # int digits beyond Python's limit are a ValueError too
        raise FrameError("the message is not valid JSON") from None
    reader = _Reader(view[LENGTH.size + n:], grads, budget)
    out = reader.walk(data, 0)
    if reader.end != _len(reader.raw):
        raise FrameError("bytes after the last tensor")
    return out


class _Reader:
    """One walk over a parsed frame, in document order (the order `pack` wrote the tensors)."""

    def __init__(self, raw: memoryview, grads: bool, budget: Budget | None) -> None:
        self.raw = raw
        self.grads = grads
        self.budget = budget
        self.end = 0
        """Where the next tensor's bytes must start."""

    def walk(self, value: Any, depth: int) -> Any:
        if depth > MAX_NEST:
            raise FrameError("nested too deeply")
        t = _type(value)
        if t is _str:
            return text(value)
        if t is _list:
            return [self.walk(v, depth + 1) for v in value]
        if t is not _dict:
            return value  # int, float, bool, None: all JSON can hold
        if _len(value) == 1:
            key, inner = next(iter(value.items()))
            if key == "$tuple":
                if _type(inner) is not _list:
                    raise FrameError("bad $tuple entry")
                return _tuple(self.walk(v, depth + 1) for v in inner)
            if key == "$dtype":
                if _type(inner) is not _str or inner not in _DTYPES:
                    raise FrameError("bad $dtype entry")
                return _DTYPES[inner]
            if key == "$t":
                return self.tensor(inner)
        return {text(k): self.walk(v, depth + 1) for k, v in value.items()}

    def tensor(self, ref: Any) -> torch.Tensor:
        if _type(ref) is not _list or _len(ref) != 5:
            raise FrameError("bad tensor entry")
        name, shape, offset, nbytes, requires_grad = ref
        dtype = _DTYPES.get(name) if _type(name) is _str else None
        if (dtype is None or _type(shape) is not _list or _len(shape) > 32
                or not all(_type(d) is int and 0 <= d <= MAX_ELEMENTS for d in shape)
                or _type(offset) is not int or _type(nbytes) is not int or _type(requires_grad) is not bool):
            raise FrameError("bad tensor entry")
        if offset != self.end or nbytes < 0 or offset + nbytes > _len(self.raw):
            raise FrameError("tensor entries overlap, leave gaps or point outside the frame")
        count = math.prod(shape)
        if count > MAX_ELEMENTS or count * dtype.itemsize != nbytes:
            raise FrameError("tensor size does not match its bytes")
        if self.budget is not None:
            self.budget.take(nbytes)
        self.end = offset + nbytes
        try:
            if nbytes == 0:
                out = torch.empty(shape, dtype=dtype)
            else:
                out = torch.frombuffer(bytearray(self.raw[offset:offset + nbytes]), dtype=dtype).reshape(shape)
        except (RuntimeError, TypeError, ValueError) as exc:
            raise FrameError(f"a tensor cannot be read: {type(exc).__name__}") from None
        if self.grads and requires_grad and (out.is_floating_point() or out.is_complex()):
            out.requires_grad_(True)
        return out
