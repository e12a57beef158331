"""What a `forbid_calls` entry forbids, read from torch's own operator registry.

The child sees forbidden calls at torch's dispatcher (see `observe.py`), by aten op
name, so one YAML entry stands for an op *family*: the entry is resolved to its aten
op (`torch.nn.functional.linear` -> `aten::linear`, `torch.Tensor.clamp` ->
`aten::clamp`, `torch.ops.aten.stack` -> `aten::stack`), and the family is every op in
the registry with the same core name: every overload (so `out=` variants), the
in-place form (`clamp_`), private kernels (`_stack`) and foreach forms
(`_foreach_clamp_min_`), and the one-sided `_min`/`_max` variants (`clamp_min_`
for `clamp`). Aliases and composites need no list: `torch.clip` and
`F.hardtanh` run `aten::clamp` at the dispatcher and are seen as such.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def registry() -> frozenset[str]:
    """Every aten op name torch registers, without overload names."""
    import torch

    return frozenset(name.split("::", 1)[1].split(".", 1)[0]
                     for name in torch._C._dispatch_get_all_op_names() if name.startswith("aten::"))


def _core(name: str) -> str:
    return name.removeprefix("_foreach_").strip("_")


def _resolve(dotted: str) -> Any:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for part in parts[i:]:
                obj = getattr(obj, part)
        except AttributeError:
            return None
        return obj
    return None


def aten_op(dotted: str) -> str | None:
    """The aten op a dotted name stands for (without `aten::`), or None."""
    if dotted.split(".")[0] != "torch":
        return None  # only torch's functions run torch's operators
    obj = _resolve(dotted)
    if obj is None:
        return None
    names = registry()
    qualified = getattr(obj, "_qualified_op_name", None) or getattr(getattr(obj, "_schema", None), "name", None)
    if isinstance(qualified, str):
        ns, _, op = qualified.partition("::")
        return op.split(".")[0] if ns == "aten" and op.split(".")[0] in names else None
    name = getattr(obj, "__name__", None)
    if not isinstance(name, str):
        return None
    for candidate in (name, name.lower(), name.rstrip("_")):
        if candidate in names:
            return candidate
    return None


_BOUNDS = ("_min", "_max")
"""One-sided variants torch names `<op>_min` / `<op>_max` (clamp_min, clamp_max)."""


def family(op: str) -> list[str]:
    """Every aten op with the same core name as `op` (in-place, private and foreach forms),
    and its one-sided `_min`/`_max` variants."""
    core = _core(op)
    cores = {core, *(core + bound for bound in _BOUNDS)}
    return sorted(n for n in registry() if _core(n) in cores)


def forbidden_ops(calls: list[str]) -> dict[str, str]:
    """`aten::<op>` -> the YAML entry it comes from, for every op the entries forbid.
    Entries that name no aten op are left out (see `unresolved`)."""
    out: dict[str, str] = {}
    for dotted in calls:
        op = aten_op(dotted)
        if op is None:
            continue
        for member in family(op):
            out.setdefault(f"aten::{member}", dotted)
    return out


def unresolved(calls: list[str]) -> list[str]:
    """The entries that name no torch operator (an instructor's mistake `grade check` reports)."""
    return [dotted for dotted in calls if aten_op(dotted) is None]
