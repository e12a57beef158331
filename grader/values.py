"""Turns argument specs from the YAML into concrete inputs (tensors, dtypes, ...).

Seeds are derived from names, never from the clock, so every machine builds
the same inputs; `--student ID` feeds the id into the seed and selects the
case's `variant` arguments.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

import torch

from grader.compare import CHECKED_DEVICE
from grader.schema import (
    Case,
    ChoiceValue,
    DeviceValue,
    DTypeValue,
    FormatValue,
    NumpyValue,
    RandintValue,
    RandomValue,
    ShapesValue,
    TensorValue,
)

DEVICE = {"$device": "checked"}
"""Marker for 'the device under test'; the child replaces it with the device name."""

NUMPY = "$numpy"
"""Key of the marker `{"$numpy": tensor}`: the child (and the reference) get `tensor.numpy()`,
a fresh array per call; only tensors and plain values travel to the child."""


def is_numpy_marker(value: Any) -> bool:
    return type(value) is dict and set(value) == {NUMPY} and isinstance(value[NUMPY], torch.Tensor)


def numpy_of(marker: dict[str, Any]) -> Any:
    """The array a NumPy marker stands for (a fresh copy)."""
    return marker[NUMPY].detach().clone().numpy()


def seed_for(*parts: object) -> int:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def dtype_of(name: str) -> torch.dtype:
    dt = getattr(torch, name)
    assert isinstance(dt, torch.dtype)
    return dt


def case_args(case: Case, *, seed: int, student: str | None) -> dict[str, Any]:
    """Concrete keyword arguments for one case (CPU tensors, plain values, DEVICE)."""
    specs = dict(case.args)
    if student is not None:
        specs.update(case.variant)
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    return {name: build(spec, rng, gen, student or "") for name, spec in specs.items()}


def build(spec: Any, rng: random.Random, gen: torch.Generator, student: str = "") -> Any:
    """One argument's value; `student` deals the kinds of broadcasting answers (see random_shapes)."""
    if isinstance(spec, TensorValue):
        dtype = dtype_of(spec.dtype) if spec.dtype else None
        t = torch.tensor(spec.tensor, dtype=dtype)
        return t.requires_grad_(True) if spec.requires_grad else t
    if isinstance(spec, RandomValue):
        dtype = dtype_of(spec.dtype)
        shape = tuple(_dim(d, rng) for d in spec.shape)
        if spec.random == "randint":
            t = torch.randint(spec.low, spec.high, shape, generator=gen, dtype=dtype)
        elif spec.random == "rand":
            t = torch.rand(shape, generator=gen, dtype=dtype)
        else:
            t = torch.randn(shape, generator=gen, dtype=dtype)
        return t.requires_grad_(True) if spec.requires_grad else t
    if isinstance(spec, NumpyValue):
        if isinstance(spec.numpy, RandomValue):
            return {NUMPY: build(spec.numpy, rng, gen, student)}
        import numpy as np

        return {NUMPY: torch.from_numpy(np.array(spec.numpy, dtype=spec.dtype))}
    if isinstance(spec, DTypeValue):
        return dtype_of(spec.dtype)
    if isinstance(spec, DeviceValue):
        return dict(DEVICE)
    if isinstance(spec, RandintValue):
        lo, hi = spec.randint
        return rng.randint(min(lo, hi), max(lo, hi))
    if isinstance(spec, ChoiceValue):
        return rng.choice(spec.choice)
    if isinstance(spec, ShapesValue):
        return random_shapes(spec.shapes, rng, student)
    if isinstance(spec, FormatValue):
        return spec.format.format(**{name: build(v, rng, gen, student) for name, v in spec.with_.items()})
    return spec


def _dim(spec: int | RandintValue | ChoiceValue, rng: random.Random) -> int:
    """One size of a random tensor's shape, drawn when the YAML asks for it."""
    if isinstance(spec, int):
        return spec
    value = build(spec, rng, torch.Generator())
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"a shape size must be a whole number >= 0, got {value!r}")
    return value


ANSWER_KINDS = ("error", "input", "new")
"""What a broadcasting question's answer can be: "error", the shape of one of the inputs,
or a new shape that none of the inputs has."""


def answer_kind(shapes: list[list[int]]) -> str:
    """Which of ANSWER_KINDS the shapes broadcast to."""
    try:
        result = list(torch.broadcast_shapes(*(tuple(s) for s in shapes)))
    except RuntimeError:
        return "error"
    return "input" if result in shapes else "new"


def dealt_kind(student: str, slot: int) -> str:
    """The kind of answer of question `slot` in `student`'s deal: the three kinds in an order
    shuffled per student, repeated, so that no kind comes up more than ceil(n / 3) times in
    n questions, and each comes up equally often over a class."""
    order = list(ANSWER_KINDS)
    random.Random(f"deal:{student}").shuffle(order)
    return order[slot % len(order)]


def random_shapes(spec: ShapesValue.Spec, rng: random.Random, student: str = "") -> list[list[int]]:
    """`count` distinct shapes, each within the spec's bounds, whose broadcast answer is of the
    dealt kind (with `slot`), or else "error" with probability 1 - `compatible` and otherwise
    one of the inputs or a new shape, half and half."""
    can_clash = spec.max_size >= 3  # sizes 1 and 2 always broadcast
    if spec.slot is not None:
        kind = dealt_kind(student, spec.slot)
    else:
        kind = "error" if rng.random() >= spec.compatible else rng.choice(ANSWER_KINDS[1:])
    if kind == "error" and not can_clash:
        kind = rng.choice(ANSWER_KINDS[1:])
    shapes = _draw_shapes(spec, rng, kind)
    for _ in range(500):  # a few tries at most for any spec the schema allows
        distinct = len({tuple(s) for s in shapes}) == len(shapes)
        if distinct and answer_kind(shapes) == kind:
            break
        shapes = _draw_shapes(spec, rng, kind)
    return shapes


def _draw_shapes(spec: ShapesValue.Spec, rng: random.Random, kind: str) -> list[list[int]]:
    lo, hi = spec.ndim
    result_ndim = rng.randint(max(1, lo), max(1, lo, hi))
    target = [rng.randint(2, spec.max_size) for _ in range(result_ndim)]
    shapes: list[list[int]] = []
    for _ in range(spec.count):
        ndim = rng.randint(max(1, min(lo, result_ndim)), result_ndim)
        dims = target[result_ndim - ndim:]
        shapes.append([d if rng.random() < 0.5 else 1 for d in dims])
    if kind == "input":
        shapes[rng.randrange(spec.count)] = list(target)
    if kind == "error":
        # make one trailing-aligned dimension clash: two sizes > 1 that differ, both within max_size
        which = rng.randrange(spec.count)
        shape = shapes[which]
        pos = rng.randrange(len(shape))
        axis_from_end = len(shape) - pos
        others = [s for i, s in enumerate(shapes) if i != which and len(s) >= axis_from_end]
        if not others:
            other = shapes[(which + 1) % spec.count]
            axis_from_end = min(axis_from_end, len(other))
            pos = len(shape) - axis_from_end
            others = [other]
        other_dim = others[0][len(others[0]) - axis_from_end]
        if other_dim == 1:
            others[0][len(others[0]) - axis_from_end] = other_dim = rng.randint(2, spec.max_size)
        shape[pos] = rng.choice([v for v in range(2, spec.max_size + 1) if v != other_dim])
    return shapes


def describe(value: Any) -> str:
    """A short human description of an argument, for feedback and questions."""
    if isinstance(value, torch.Tensor):
        return f"tensor of shape {tuple(value.shape)}, {str(value.dtype).replace('torch.', '')}"
    if isinstance(value, torch.dtype):
        return str(value)
    if is_numpy_marker(value):
        t = value[NUMPY]
        return f"NumPy array of shape {tuple(t.shape)}, {str(t.dtype).replace('torch.', '')}"
    if value == DEVICE:
        return CHECKED_DEVICE
    text = repr(value)  # lists as written: [[1, 2], [2, 3]] may be data, not shapes
    return text if len(text) <= 80 else text[:77] + "..."


def to_device(value: Any, device: str) -> Any:
    """Inputs as the student's function sees them on `device` (fresh copies)."""
    if isinstance(value, torch.Tensor):
        return value.detach().to(device).clone().requires_grad_(value.requires_grad)
    if is_numpy_marker(value):
        return numpy_of(value)
    if value == DEVICE:
        return device
    if isinstance(value, list):
        return [to_device(v, device) for v in value]
    if isinstance(value, tuple):
        return tuple(to_device(v, device) for v in value)
    return value
