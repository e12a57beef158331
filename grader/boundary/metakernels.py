"""Which kernels a child's calls on `meta` run: torch's C++ meta kernels wherever that
cannot change a verdict, torch's Python ones elsewhere (`use_cpp_kernels`, called once by
the zygote before it forks any child; the references run on `cpu`, in the grader)."""

from __future__ import annotations

from typing import Any

import torch

NATIVE_COMPOSITES = frozenset(f"aten::{name}" for name in (
    "sum", "mean", "abs", "_unsafe_view", "add.Scalar", "sub.Scalar", "mul.Scalar", "div.Scalar", "rsub.Scalar",
    "ones", "zeros", "full", "ones_like", "zeros_like", "empty_like", "scalar_tensor",
    "new_ones", "new_zeros", "new_full", "new_empty", "new_empty_strided",
    "arange", "arange.start", "arange.start_step", "linspace", "eye", "eye.m",
    "rand", "randn", "randint", "randint.low", "fill.Scalar", "logical_not",
))
"""Operators of one tensor without a C++ meta kernel whose C++ composite kernel (made of
operators that have one) runs on `meta` as well. Not every composite kernel does
(`convolution`, `cummax`, `linspace` of tensors fail on `meta`)."""
DEVICE_CHECKED = frozenset(f"aten::{name}" for name in (
    "add.Tensor", "sub.Tensor", "mul.Tensor", "div.Tensor", "pow.Tensor_Tensor", "maximum", "minimum",
    "eq.Tensor", "ne.Tensor", "lt.Tensor",
    "le.Tensor", "gt.Tensor", "ge.Tensor", "atan2", "remainder.Tensor", "fmod.Tensor", "hypot",
    "sigmoid_backward", "tanh_backward", "threshold_backward",
))
"""Operators of several tensors whose C++ meta kernel (TensorIterator's) refuses tensors on
two devices as their `cpu` and `cuda` kernels do ("Expected all tensors to be on the same
device", a CPU scalar allowed). Most other C++ meta kernels of several tensors (`cat`, `mm`,
`addmm`) check no device, and the `meta` check is there to catch code that leaves a tensor
on the CPU: those keep torch's Python kernel, which does. So do the in-place ones (`add_`):
torch's Python kernel lets `x.add_(cpu_tensor)` through on `meta`, TensorIterator's does not,
and a verdict must not depend on which kernel ran."""


def _tensor_arguments(op: Any) -> int:
    """How many tensors an operator takes, at most (a list counts as two)."""
    count = 0
    for argument in op._schema.arguments:
        kind = str(argument.type)
        if "Tensor" in kind:
            count += 2 if "[]" in kind or "List" in kind else 1
    return count


def use_cpp_kernels() -> int:
    """Run the `meta` checks on torch's C++ meta kernels wherever that gives the same
    verdicts; returns how many operators were switched (0: left as torch set it up).

    At import, torch registers a Python meta kernel (`torch._meta_registrations.activate_meta`)
    over every operator it has one for, the C++ ones included. In a freshly forked child those
    made exercise 3's calls on `meta` cost ~10 ms a job more than on `cpu` (the first touch of
    torch's Python kernels copies the pages they live on), a quarter of a job. The C++ meta
    kernel of a structured operator is the shape and dtype logic its `cpu` kernel runs, so a
    result on `meta` is what `cpu` would give (the grader compares a `meta` result's shape,
    dtype and device with the `cpu` reference's). Switched: operators of one tensor with a
    C++ meta kernel or in `NATIVE_COMPOSITES`, and those in `DEVICE_CHECKED`; every other one
    keeps torch's Python kernel. Only the zygote calls this, before any child is forked; the
    references run on `cpu`."""
    try:
        import torch._meta_registrations as registrations
        from torch._decomp import global_decomposition_table

        python_kernels = registrations._meta_lib_dont_use_me_use_register_meta
        kernels: dict[str, Any] = {}
        for kind in ("meta", "post_autograd", "pre_autograd"):  # activate_meta's order of preference
            for op, fn in global_decomposition_table[kind].items():
                if isinstance(op, torch._ops.OpOverload):
                    kernels.setdefault(op.name(), (op, fn))
        names = ["aten::" + entry.split("/")[1] for entry in python_kernels._op_impls]  # "aten/add.Tensor/Meta"
        if not names or not all(name in kernels for name in names):
            return 0  # not the layout this was written for: keep torch's own
    except Exception:  # noqa: BLE001 - another torch: its own meta kernels, slower but the same answers
        return 0
    python_kernels._destroy()  # torch's C++ meta kernels are the operators' Meta kernels again
    kept = torch.library.Library("aten", "IMPL", "Meta")
    try:
        has = torch._C._dispatch_has_kernel_for_dispatch_key
        for name in names:
            op = kernels[name][0]
            if has(name, "Meta"):
                native = name in DEVICE_CHECKED or _tensor_arguments(op) <= 1
            else:
                native = name in NATIVE_COMPOSITES and _tensor_arguments(op) <= 1 and (
                    has(name, "CompositeExplicitAutograd") or has(name, "CompositeExplicitAutogradNonFunctional"))
            if not native:
                kept.impl(*kernels[name])
    except Exception:  # noqa: BLE001 - halfway: every Python kernel back, as torch had them
        kept._destroy()
        kept = torch.library.Library("aten", "IMPL", "Meta")
        for name in names:
            kept.impl(*kernels[name])
    # where torch registers its meta kernels from now on; it holds the Python ones kept here
    registrations._meta_lib_dont_use_me_use_register_meta = kept
    return len(names) - len(kept._op_impls)
