"""The harness that runs inside the isolated child process.

It loads the student's source, calls each task on each device, watches the
calls (autograd used? forbidden functions called?) and sends back *raw data
only*: encoded tensors and plain values, framed on a pipe. It decides nothing;
the parent computes references and verdicts (see `compare.py`).

Everything the harness needs is bound before the student's code runs, so
monkeypatching torch or builtins does not change what is sent: tensor
properties are read through torch's immutable C type, and the harness's own
work on results runs with torch function and dispatch modes (the student's
included) switched off. Whatever the student does here can at worst corrupt
their own results: code that rewrites this module or writes to the result
pipe can forge what the rules observe, never the values (the parent compares
those with its own references).
"""

from __future__ import annotations

import builtins
import itertools
import linecache
import os
import struct
import sys
import traceback
import types
import warnings
from typing import Any, NoReturn

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from grader.boundary import shield, wire
from grader.boundary.observe import AutogradEvidence, ProfilerControl, tensor_key

MAGIC = b"GRD2"
HEADER = struct.Struct("<4sI")
MAX_FRAME = 64 << 20
"""The largest frame the grader reads: larger results are reported as too large."""
MAX_TENSOR_ELEMENTS = 1 << 24
MAX_ITEMS = 10_000
MAX_DEPTH = 8

# Bound before any student code runs.
_type = type
_issubclass = issubclass
_Tensor = torch.Tensor
_Size = torch.Size
_dtype_cls = torch.dtype
_detach = torch.Tensor.detach
_to = torch.Tensor.to
_clone = torch.Tensor.clone
# The readers of tensor facts through torch's C type (its attributes cannot be patched) are
# bound once, in wire.py, and shared with the encoder there.
_TensorBase = wire._TensorBase
_device_of = wire._device_of
_shape_of = wire._shape_of
_dtype_of = wire._dtype_of
_requires_grad_of = wire._requires_grad_of
_layout_of = wire._layout_of
_is_quantized = wire._is_quantized
_strided = wire._strided
_grad_fn_of = _TensorBase.__dict__["grad_fn"].__get__
_numel = wire._numel
_requires_grad_ = _TensorBase.requires_grad_
_sum = _TensorBase.sum
_no_function_modes = torch._C.DisableTorchFunction
_no_dispatch_modes = torch._C._DisableTorchDispatch
_numpy = torch.Tensor.numpy
_from_numpy = torch.from_numpy
_pack = wire.pack
_sendable = wire.sendable
_write = os.write
_exit = os._exit
_ones_like = torch._C._VariableFunctions.ones_like
_run_apart = shield.run_apart
_tensor_key = tensor_key
_manual_seed = torch.manual_seed
_cpu_generator = torch.default_generator
_GPU = torch.cuda.is_available()
"""Asked here in the zygote, through NVML (its environment says so): asked through the CUDA
runtime, no forked child could start CUDA. Where it is True the zygote neither starts the
profiler nor runs a backward, and each child does both itself (seen on an H200):
- starting the profiler asks the CUDA runtime whether there is a GPU, and a child forked after
  that fails to start CUDA ("CUDA error: initialization error");
- autograd's engine starts a thread per GPU at its first backward and marks every later fork:
  a child forked after that fails every backward ("Unable to handle autograd's threading in
  combination with fork-based multiprocessing")."""
_ONLY_CPU_RNG = sys.platform.startswith("linux") and not _GPU
"""Then seeding the CPU generator is all torch.manual_seed does, minus recording a stack
trace for CUDA's lazy seeding on every call (a third of a task's time on small cases)."""
_set_default_dtype = torch.set_default_dtype
_set_grad_enabled = torch.set_grad_enabled
_set_num_threads = torch.set_num_threads
_set_flush_denormal = torch.set_flush_denormal
_set_matmul_precision = torch.set_float32_matmul_precision
_set_default_device = torch.set_default_device
_set_anomaly = torch.set_anomaly_enabled
_use_deterministic = torch._C._set_deterministic_algorithms
_float32 = torch.float32
_str = str
_repr = repr
_len = len
_list = list
_tuple = tuple
_dict = dict
_PRIMITIVES = (int, float, bool, str, _type(None), complex)
_BaseException = BaseException
_NotImplementedError = NotImplementedError
_untyped_storage = _TensorBase.untyped_storage
_storage_ptr = torch.UntypedStorage.data_ptr
_storage_nbytes = torch.UntypedStorage.nbytes
_tree_leaves = torch.utils._pytree.tree_leaves
try:
    import numpy as _np

    _ndarray: Any = _np.ndarray
    _array_interface = _np.ndarray.__dict__["__array_interface__"].__get__
    _array_nbytes = _np.ndarray.__dict__["nbytes"].__get__
except ImportError:  # pragma: no cover - torch is built with numpy here
    _ndarray = None
# What the harness reads of a submission's classes and exceptions, on its own thread: through
# `type`'s and BaseException's own descriptors, so that no property, metaclass or dunder of
# the submission's runs there (where the audit hook allows everything).
_type_name = type.__dict__["__name__"].__get__
_type_qualname = type.__dict__["__qualname__"].__get__
_type_module = type.__dict__["__module__"].__get__
_type_flags = type.__dict__["__flags__"].__get__
_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made by Python code, not a builtin one
_traceback_of = BaseException.__dict__["__traceback__"].__get__
_args_of = BaseException.__dict__["args"].__get__
_plain_str = BaseException.__str__
_PLAIN = (str, int, float, bool, _type(None))


def _builtin(t: type) -> bool:
    """A class defined in C: its attributes are its own, no code of the submission's."""
    return not _type_flags(t) & _HEAP_TYPE


def _is(value: Any, cls: type) -> bool:
    """isinstance without asking the value: isinstance falls back on `value.__class__`,
    which a submission's object can answer with code of its own."""
    return _issubclass(_type(value), cls)


def _text(value: Any) -> str:
    return value if _type(value) is _str else "?"


def _class_name(t: type, qualified: bool = False) -> str:
    name = _text(_type_qualname(t) if qualified else _type_name(t))
    if not qualified:
        return name
    return f"{_text(_type_module(t))}.{name}"


_TRANSFER_OPS = frozenset(("aten::_to_copy", "aten::copy_", "aten::_copy_from", "aten::_copy_from_and_resize"))
"""Ops that move a tensor to another device: `created_on` allows them (they are how data moves)."""


class _Channel:
    """Length-prefixed frames (see `wire.py`: JSON and raw tensor bytes) on the result pipe.

    Every message carries the job's seal, a secret the parent made for this job: the
    submission can write to the pipe, but not read it, nor reach the frame that holds
    the seal (shield.py), so the parent takes no frame it wrote for the harness's."""

    def __init__(self, fd: int, seal: str) -> None:
        self.fd = fd
        self.seal = seal

    def send(self, message: dict[str, Any]) -> None:
        with _no_function_modes(), _no_dispatch_modes():
            payload = _pack({**message, "seal": self.seal})
        if _len(payload) > MAX_FRAME and message.get("event") == "done":
            size = _len(payload) >> 20
            self.send({"event": "done", "task": message.get("task"), "result": {
                "missing": f"the results are too large to send to the grader ({size} MiB, at most "
                           f"{MAX_FRAME >> 20} MiB); return smaller tensors"}})
            return
        data = HEADER.pack(MAGIC, _len(payload)) + payload
        view = memoryview(data)
        while view:
            n = _write(self.fd, view)
            view = view[n:]


def _qualname(obj: Any) -> str:
    return _class_name(_type(obj), qualified=True)


def encode(value: Any, depth: int = 0) -> dict[str, Any]:
    """Plain-data description of a value: only dicts, lists, str, numbers and plain tensors."""
    t = _type(value)
    if t is _Tensor and (_layout_of(value) is not _strided or _is_quantized(value)):
        return {"kind": "other", "type": f"torch.Tensor with layout {_str(_layout_of(value)).replace('torch.', '')}"
                                         f"{' (quantized)' if _is_quantized(value) else ''}"}
    if t is _Tensor:
        device = _str(_device_of(value))
        record: dict[str, Any] = {
            "kind": "tensor",
            "shape": [int(d) for d in _shape_of(value)],
            "dtype": _str(_dtype_of(value)).replace("torch.", ""),
            "device": device,
            "requires_grad": bool(_requires_grad_of(value)),
            "has_grad_fn": _grad_fn_of(value) is not None,
            "value": None,
        }
        if device != "meta" and _numel(value) <= MAX_TENSOR_ELEMENTS:
            copy = _clone(_to(_detach(value), "cpu"))
            if _sendable(copy):
                record["value"] = copy
            else:
                record = {"kind": "other", "type": f"torch.Tensor of dtype {record['dtype']}"}
        elif device != "meta":
            record["too_large"] = True
        return record
    if _is(value, _Tensor):
        return {"kind": "other", "type": _qualname(value), "tensor_subclass": True}
    if t in _PRIMITIVES:
        if t is complex:
            return {"kind": "other", "type": "complex"}
        if t is str and _len(value) > 10_000:
            value = value[:10_000]
        return {"kind": "py", "value": value}
    if t is _dtype_cls:
        return {"kind": "dtype", "value": _str(value).replace("torch.", "")}
    if t in (_list, _tuple, _Size) or (_builtin(t) and _type_module(t) == "torch.return_types"):
        if depth >= MAX_DEPTH or _len(value) > MAX_ITEMS:
            return {"kind": "other", "type": f"{_class_name(t)} too large or too deeply nested"}
        return {"kind": "seq", "type": _class_name(t), "items": [encode(v, depth + 1) for v in value]}
    return {"kind": "other", "type": _qualname(value)}


def _exception_message(exc: BaseException) -> str:
    """The message, from the exception's arguments when they are plain values. A builtin
    exception class formats them itself (KeyError quotes its key; SyntaxError and OSError
    add their other fields when those are plain too); any other class (the submission's own
    `__str__` included) gets BaseException's formatting of the arguments."""
    args = _args_of(exc)
    if _type(args) is not _tuple or not _plain(args):
        return "<a message made of your own objects: not shown>"
    fields = _own_fields(exc)
    return (_str(exc) if fields is not None and _plain(fields) else _plain_str(exc))[:2000]


def _own_fields(exc: BaseException) -> tuple[Any, ...] | None:
    """What a builtin exception class shows besides its arguments (SyntaxError's location,
    OSError's numbers and file names); None for a class made by Python code."""
    t = _type(exc)
    if not _builtin(t):
        return None
    fields: Any = exc  # a builtin class: these are its C fields
    if _issubclass(t, SyntaxError):
        return (fields.filename, fields.msg, fields.lineno, fields.offset, fields.text)
    if _issubclass(t, OSError):
        return (fields.errno, fields.strerror, fields.filename, fields.filename2)
    return ()


def _plain(value: Any, depth: int = 0) -> bool:
    return _type(value) in _PLAIN or (depth < 2 and _type(value) is _tuple and all(_plain(v, depth + 1) for v in value))


def _student_frames(exc: BaseException, filename: str) -> tuple[list[str], bool]:
    """The traceback's lines in the student's file, formatted by `traceback` from frames made
    here, with the lines of the harness's own copy of the source (never through the frames'
    loaders or globals, which `traceback.extract_tb` asks); and whether the last frame of all
    is a `raise` line of that file."""
    frames = []
    tb = _traceback_of(exc)
    entry: Any = linecache.cache.get(filename)  # set by the harness; the submission can replace it
    source = entry[2] if _type(entry) is _tuple and _len(entry) == 4 and _type(entry[2]) is _list else []
    last_is_raise = False
    while tb is not None:
        code = tb.tb_frame.f_code
        lineno = tb.tb_lineno
        ours = code.co_filename == filename and _type(lineno) is int and 0 < lineno <= _len(source)
        line = source[lineno - 1] if ours else ""
        line = line if _type(line) is _str else ""
        if ours:
            frames.append(_frame_summary(code, tb.tb_lasti, filename, lineno, line))
        last_is_raise = ours and line.strip().startswith("raise")
        tb = tb.tb_next
    return traceback.format_list(frames), last_is_raise


def _frame_summary(code: Any, lasti: int, filename: str, lineno: int, line: str) -> Any:
    """A FrameSummary with the column range of the failing expression (3.11+), for the carets."""
    try:
        positions = next(itertools.islice(code.co_positions(), lasti // 2, None)) if lasti >= 0 else None
        if positions is not None and positions[0] == lineno:
            return traceback.FrameSummary(filename, lineno, code.co_name, lookup_line=False, line=line,
                                          end_lineno=positions[1], colno=positions[2], end_colno=positions[3])
    except (AttributeError, TypeError, StopIteration):  # before 3.11: no positions
        pass
    return traceback.FrameSummary(filename, lineno, code.co_name, lookup_line=False, line=line)


def _describe_exception(exc: BaseException, filename: str) -> dict[str, Any]:
    """The exception with only the student's own frames, read without running any of the
    submission's code: this runs on the harness's thread."""
    try:
        t = _type(exc)
        lines, last_is_raise = _student_frames(exc, filename)
        fields = _own_fields(exc)
        if _issubclass(t, SyntaxError) and fields is not None and _plain(fields) and fields[0] == filename:
            lines = traceback.format_exception_only(t, exc)[:-1]  # the file does not parse
        try:
            message = _exception_message(exc)
        except _BaseException:
            message = "<the exception's message could not be shown>"
        return {
            "type": _class_name(t)[:200],
            "message": message,
            "traceback": "".join(lines)[-4000:],
            # a `raise NotImplementedError` line of the student's file (the stub's), not one raised
            # by torch (e.g. `.cpu()` on meta)
            "not_implemented": t is _NotImplementedError and last_is_raise,
        }
    except _BaseException:
        return {"type": "Exception", "message": "<unprintable>", "traceback": "", "not_implemented": False}


def _prepare(value: Any, device: str, grads_to: bool) -> Any:
    if _type(value) is _Tensor:
        out = _clone(_to(_detach(value), device))
        if grads_to or _requires_grad_of(value):
            _requires_grad_(out, True)
        return out
    if _type(value) is _dict and value.get("$device") == "checked":
        return device
    if _type(value) is _dict and _type(value.get("$numpy")) is _Tensor:  # values.NUMPY: an ndarray argument
        return _numpy(_clone(value["$numpy"]))
    if _type(value) is _list:
        return [_prepare(v, device, False) for v in value]
    return value


class _LazyDynamo(types.ModuleType):
    """Stands in for `torch._dynamo` in the child until something needs the real one.

    torch's Python meta kernels are wrapped so that their first call runs
    `torch._dynamo.disable(fn)`, which imports dynamo (2+ s) in every child.
    In eager code `disable` is a pass-through; any other attribute (e.g. a
    student calling torch.compile) loads the real module transparently.
    """

    def disable(self, fn: Any = None, recursive: bool = True, **_: Any) -> Any:
        return (lambda f: f) if fn is None else fn

    def __getattr__(self, name: str) -> Any:
        import importlib

        sys.modules.pop("torch._dynamo", None)
        if getattr(torch, "_dynamo", None) is self:
            delattr(torch, "_dynamo")
        return getattr(importlib.import_module("torch._dynamo"), name)


def _install_lazy_modules() -> None:
    """Keep torch's lazily imported compiler modules out of each child's start-up."""
    if "torch._dynamo" not in sys.modules:
        shim = _LazyDynamo("torch._dynamo")
        sys.modules["torch._dynamo"] = shim
        torch._dynamo = shim  # type: ignore[attr-defined]


def _reset_globals() -> None:
    """Before every call: whatever global torch state the student changed (default dtype and
    device, grad mode, determinism, threads, denormals, matmul precision, the seed) is put back,
    so one case cannot break the next, and results do not depend on the order of cases."""
    _set_default_dtype(_float32)
    _set_default_device(None)
    _set_grad_enabled(True)
    _use_deterministic(False)
    _set_num_threads(1)
    _set_flush_denormal(False)
    _set_matmul_precision("highest")
    _set_anomaly(False)
    if _ONLY_CPU_RNG:
        _cpu_generator.manual_seed(0)
    else:
        _manual_seed(0)


class Guards:
    """The harness's private means of observing the rules (see observe.py): op recording
    for every thread, and the autograd engine's evidence. Only the harness holds them."""

    def __init__(self, profiler: ProfilerControl, evidence: AutogradEvidence) -> None:
        self.profiler = profiler
        self.evidence = evidence
        self.engine = evidence.engine
        self.run_backward = evidence.real_run_backward

    @classmethod
    def for_child(cls, profiler: ProfilerControl) -> Guards:
        """In the child: the profiler's controls, which the zygote took out of torch's reach
        before it forked (`observe.take_profiler`; taking them again here would bind the
        refusals it left in their place)."""
        return cls(profiler, AutogradEvidence())

    @classmethod
    def local(cls) -> Guards:
        """In a student's own notebook kernel (the visible checks): nothing is taken away."""
        return cls(ProfilerControl(), AutogradEvidence())

    def restore_engine(self) -> None:
        from torch.autograd.variable import Variable

        Variable._execution_engine = self.engine  # type: ignore[assignment]


_KEPT: list[Any] = []
"""What the submission returned or was given, kept for the child's life: dropping it on the
harness's thread would run the student's `__del__` there, outside the audit hook."""


def _tensors(value: Any) -> list[Any] | None:
    """The tensors of a result (a tensor, or a tuple or list of them), or None."""
    if _type(value) is _Tensor:
        return [value]
    if _type(value) in (_tuple, _list) and value and all(_type(v) is _Tensor for v in value):
        return _list(value)
    return None


def _engine_made(value: Any, records: Any, inputs: set[Any], items: list[int] | None = None) -> bool:
    """Whether every tensor of the result (or those at `items` of a tuple result) is what the
    autograd engine produced for a leaf (or `inputs=` tensor) holding the values of one of
    the call's tensor arguments."""
    tensors = _tensors(value)
    if not tensors or not records:
        return False
    if items is not None:
        if _type(value) is _Tensor:
            return False
        picked = []
        for i in items:  # from the parent's plan; no builtin the submission could patch
            if i >= _len(tensors):
                return False
            picked.append(tensors[i])
        tensors = picked
    produced = {grad for leaf, grad in records if leaf in inputs}
    return all(_tensor_key(t) in produced for t in tensors)


class _OpWatcher(TorchDispatchMode):
    """Counts the aten ops a call runs and those that write into a tensor (`max_torch_ops`), and
    notes the devices of the tensors they create (`created_on`), device moves excepted."""

    def __init__(self) -> None:
        super().__init__()
        self.ops = 0
        self.writes = 0
        self.created: set[str] = set()

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        self.ops += 1
        schema = getattr(func, "_schema", None)
        if schema is not None and schema.is_mutable:
            self.writes += 1
        if _aten_name(func) not in _TRANSFER_OPS:
            for leaf in _tree_leaves(out):
                if _is(leaf, _Tensor):
                    self.created.add(_device_of(leaf).type)
        return out


def _memory_range(value: Any) -> tuple[int, int] | None:
    """[start, end) of the memory behind a tensor's storage or a NumPy array, None if it has none."""
    if _is(value, _Tensor):
        if _device_of(value).type == "meta":
            return None
        storage = _untyped_storage(value)
        start = _storage_ptr(storage)
        return (start, start + _storage_nbytes(storage)) if start else None
    if _ndarray is not None and _is(value, _ndarray):
        start = _array_interface(value)["data"][0]
        return (start, start + _array_nbytes(value)) if start else None
    return None


def _shares(result: Any, arg: Any) -> bool | None:
    a, b = _memory_range(result), _memory_range(arg)
    if a is None or b is None:
        return None
    return a[0] < b[1] and b[0] < a[1]


class PretendAvailable:
    """During a call, `torch.cuda.is_available()` and `torch.backends.mps.is_available()` answer
    as a case's `available:` says. The functions' code is swapped, not the module attributes, so
    a name bound earlier (`from torch.cuda import is_available`) answers the same."""

    def __init__(self, available: list[str] | None) -> None:
        self.available = available
        self.saved: list[tuple[Any, Any, Any]] = []

    def __enter__(self) -> None:
        if self.available is None:
            return
        for name, fn in (("cuda", torch.cuda.is_available), ("mps", torch.backends.mps.is_available)):
            inner = fn
            while hasattr(inner, "__wrapped__"):  # e.g. an lru_cache around the real function
                inner = inner.__wrapped__
            self.saved.append((fn, inner, inner.__code__))
            inner.__code__ = (_yes if name in self.available else _no).__code__
            _clear_cache(fn)

    def __exit__(self, *exc: object) -> None:
        for fn, inner, code in self.saved:
            inner.__code__ = code
            _clear_cache(fn)
        self.saved.clear()


def _clear_cache(fn: Any) -> None:
    clear = getattr(fn, "cache_clear", None)
    if callable(clear):
        clear()


def _yes() -> bool:
    return True


def _no() -> bool:
    return False


def _aten_name(func: Any) -> str:
    """`aten::linear` for torch.ops.aten.linear(.default) and for torch._C._nn.linear alike."""
    name = getattr(func, "_qualified_op_name", None) or getattr(getattr(func, "_schema", None), "name", None)
    if name:
        return _str(name)
    module = _str(getattr(func, "__module__", ""))
    if _type(func).__name__ == "builtin_function_or_method" and module.startswith("torch"):
        return f"aten::{getattr(func, '__name__', '')}"
    return ""


def _resolve(dotted: str) -> tuple[Any, str]:
    """The object a forbidden dotted name stands for, and its aten op name."""
    obj: Any = None
    parts = dotted.split(".")
    try:
        obj = __import__(parts[0])
        for p in parts[1:]:
            obj = getattr(obj, p)
    except (ImportError, AttributeError):
        return None, ""
    return obj, _aten_name(obj)


class _CallWatcher(TorchFunctionMode):
    """Records calls of the listed torch functions, however they were reached (aliases, getattr,
    importlib, torch.ops, nn modules): `require_calls`, whose calls (`t.cpu()` of a CPU tensor)
    may run no aten op for the dispatcher-level recording to see."""

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.targets = [(name, *_resolve(name)) for name in names]
        self.seen: list[str] = []

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        aten = _aten_name(func)
        for name, obj, obj_aten in self.targets:
            if (func is obj or (aten and aten == obj_aten)) and name not in self.seen:
                self.seen.append(name)
        return func(*args, **(kwargs or {}))


def _in_modes(fn: Any, modes: list[Any]) -> Any:
    """`fn`, entering torch modes on the thread that runs it (mode stacks are per thread, and
    the student's function runs on a thread of its own)."""
    def call(**kwargs: Any) -> Any:
        for mode in modes:
            mode.__enter__()
        try:
            return fn(**kwargs)
        finally:
            for mode in reversed(modes):
                mode.__exit__(None, None, None)
    return call


def _call(fn: Any, args: dict[str, Any], task: dict[str, Any], filename: str, guards: Guards,
          watch: bool = True, available: list[str] | None = None) -> dict[str, Any]:
    """One call of the student's function, on a thread of its own, watched as the task's rules ask."""
    record: dict[str, Any] = {"status": "ok"}
    forbid: dict[str, str] = (task.get("forbid_ops") or {}) if watch else {}
    autograd = bool(task.get("autograd")) and watch
    guards.restore_engine()
    inputs: set[Any] = set()
    if autograd:
        inputs = {_tensor_key(v) for v in args.values() if _type(v) is _Tensor}
        guards.evidence.arm()
    if forbid:
        try:
            guards.profiler.start()
        except _BaseException:  # noqa: BLE001 - someone else's recording is running
            record["tampered"] = "the grader could not record your function's operations"
    required = _CallWatcher(task["require"]) if watch and task.get("require") else None
    ops = _OpWatcher() if watch and (task.get("count_ops") or task.get("created_on")) else None
    modes = [m for m in (required, ops) if m is not None]
    with PretendAvailable(available):
        ok, value, lingering = _run_apart(_in_modes(fn, modes) if modes else fn, **args)
    if ops is not None:
        record["ops"], record["writes"], record["created"] = ops.ops, ops.writes, sorted(ops.created)
    if required is not None:
        record["required"] = _list(required.seen)
    _KEPT.append((args, value))  # never freed here: no finaliser of the student's runs on this thread
    if forbid:
        seen = guards.profiler.stop()
        if seen is None:
            record["tampered"] = "the grader's recording of your function's operations was stopped"
        else:
            record["forbidden"] = _list(_dict.fromkeys(forbid[op] for op in sorted(seen) if op in forbid))
    if autograd:
        records = guards.evidence.take()
        if records is None:
            record["tampered"] = "the grader's record of the autograd engine was taken away"
        record["autograd"] = ok and records is not None and _engine_made(value, records, inputs,
                                                                         task.get("autograd_items"))
    if lingering and (forbid or autograd) and not record.get("forbidden"):
        record["tampered"] = ("threads started by your function were still running after it returned; "
                              "join them before returning")
    if ok:
        record["result"] = value
    else:
        record["status"] = "error"
        record["exception"] = _describe_exception(value, filename)
    return record


def _grads(guards: Guards, result: Any, leaves: list[Any]) -> tuple[Any, ...]:
    """d(result.sum())/d(leaves), straight from torch's C++ engine (nothing in Python that the
    submission could have patched)."""
    total = _sum(result)
    return tuple(guards.run_backward((total,), (_ones_like(total),), False, False, _tuple(leaves), True, False))


def _run_function_task(module: types.ModuleType, task: dict[str, Any], filename: str,
                       guards: Guards | None = None) -> dict[str, Any]:
    name = task["name"]
    fn = module.__dict__.get(name)
    if fn is None:
        return {"missing": f"{name} is not defined in your file"}
    if not callable(fn):
        return {"missing": f"{name} is not a function (it is a {_class_name(_type(fn))})"}
    guards = guards or Guards.local()
    grads_to = set(task.get("grads_to", []))
    devices: dict[str, list[dict[str, Any]]] = {}
    counts = task.get("case_count") or {}
    repeat_on = task.get("repeat_on", task["devices"] if task.get("repeat") else ())  # or a test cell of 2025
    for device in task["devices"]:
        records = []
        for case in task["cases"][:counts.get(device)]:
            _reset_globals()
            with _no_function_modes(), _no_dispatch_modes():  # the student's modes see none of this
                args = {k: _prepare(v, device, k in grads_to) for k, v in case["args"].items()}
            available = case.get("available")
            call = _call(fn, args, task, filename, guards, available=available)
            out: dict[str, Any] = {k: v for k, v in call.items() if k != "result"}
            if call["status"] == "ok":
                result = call["result"]
                with _no_function_modes(), _no_dispatch_modes():
                    out["output"] = encode(result)
                    if task.get("shares") in args:
                        out["shares"] = _shares(result, args[task["shares"]])
                    if grads_to and _type(result) is _Tensor and _requires_grad_of(result):
                        leaves = [args[k] for k in task["grads_to"]]
                        try:
                            guards.restore_engine()
                            grads = _grads(guards, result, leaves)
                            out["grads"] = {k: (encode(g) if g is not None else None)
                                            for k, g in zip(task["grads_to"], grads, strict=True)}
                        except _BaseException as exc:  # noqa: BLE001
                            out["grads_error"] = _describe_exception(exc, filename)["message"]
                    out["inputs_after"] = {k: encode(v) for k, v in args.items() if _type(v) is _Tensor}
                    out["inputs_after"].update({k: encode(_from_numpy(v).clone()) for k, v in args.items()
                                                if _ndarray is not None and _type(v) is _ndarray})
                if device in repeat_on:
                    _reset_globals()
                    again = _call(fn, args, task, filename, guards, watch=False, available=available)
                    with _no_function_modes(), _no_dispatch_modes():
                        out["second"] = encode(again["result"]) if again["status"] == "ok" else None
            records.append(out)
        devices[device] = records
    return {"devices": devices}


def _run_answer_task(module: types.ModuleType, task: dict[str, Any]) -> dict[str, Any]:
    name = task["name"]
    if name not in module.__dict__:
        return {"missing": f"{name} is not defined in your file"}
    return {"answer": encode(module.__dict__[name])}


def prewarm() -> None:
    """What the first watched call would otherwise load in every child: the profiler's lazy
    parts, the operator registry's names; and the ctypes helpers that torch's own lazy imports
    (torch.func, torch._dynamo) load, which a child may not import (the shield refuses importing
    ctypes), so that they are found already loaded. The zygote says it is ready after this."""
    import ctypes.util
    import ctypes.wintypes  # noqa: F401  (platform-neutral type names; colorama loads it)

    from grader.rules import registry

    registry()
    if _GPU:  # neither the profiler nor a backward before a fork: see _GPU
        return
    control = ProfilerControl()
    control.start()
    leaf = torch.ones(1, requires_grad=True)
    torch.autograd.grad((leaf * leaf).sum(), leaf)
    control.stop()


def prewarm_idle() -> None:
    """What only some children use and costs about a second to load (torch.func's transforms
    bring in torch._dynamo): loaded by the zygote once it is idle, after it said it was ready,
    so that `grade exercise3` cold does not wait for it. A child that needs it before then
    loads it itself (within its task's time)."""
    if _GPU:  # imported only: no backward before a fork (see _GPU)
        __import__("torch._dynamo")
        return
    torch.func.grad(lambda t: (t * t).sum())(torch.ones(1))


def _start_cuda(memory_mb: int) -> str:
    """CUDA cannot cross a fork: each child whose job checks `cuda` (`Limits.cuda`; `memory_mb`
    is 0 otherwise) starts it (a context, cuBLAS, autograd's device thread; about 0.3-0.5 s on
    an H200) here, under its walls, before the submission's code runs. Its time is then the
    harness's, not a task's, and a device that cannot start is the grader's error, never the
    student's. The caching allocator is held to
    `memory_mb` of GPU memory, so that a mistaken huge tensor fails as the student's
    OutOfMemoryError instead of taking the GPU from the jobs beside it (a submission can lift
    it through torch: this stops accidents, not attacks). Returns what went wrong, or ''."""
    if not memory_mb:
        return ""
    try:
        with warnings.catch_warnings():  # "Can't initialize NVML" (in the sandbox): not the student's output
            warnings.simplefilter("ignore")
            leaf = torch.ones((2, 2), device="cuda", requires_grad=True)
            (leaf @ leaf).sum().backward()
            torch.cuda.synchronize()
            total = torch.cuda.get_device_properties(0).total_memory
            torch.cuda.set_per_process_memory_fraction(min(1.0, (memory_mb << 20) / total))
    except _BaseException as exc:  # noqa: BLE001 - reported, as the grader's error
        return f"cuda ({_class_name(_type(exc))}: {_exception_message(exc)})"
    return ""


def main(job: dict[str, Any], result_fd: int, profiler: ProfilerControl) -> NoReturn:
    """Entry point in the child: never returns, never runs atexit handlers."""
    channel = _Channel(result_fd, _str(job.pop("seal", "")))  # the seal lives in this frame only
    filename = job["filename"]
    streams = (sys.stdout, sys.stderr)
    try:
        shield.hide_modules()  # first: the zygote's list of them holds while nothing was imported
        _install_lazy_modules()
        _reset_globals()
        os.environ.pop("PYTORCH_NVML_BASED_CUDA_CHECK", None)  # the zygote's (see _GPU): after the fork,
        # the CUDA runtime answers (NVML may not start inside the walls, and its warning would be the task's output)
        unavailable = _start_cuda(job["cuda_memory_mb"])
        if unavailable:
            channel.send({"event": "unavailable", "message": unavailable[:2000]})
            _exit(0)

        # from here on the harness's state lives in this frame only (shield.py)
        guards = Guards.for_child(profiler)
        shield.install((guards.evidence.generator,))
        shield.quiet_signals()
        shield.collect_apart()

        source = job["source"]
        linecache.cache[filename] = (_len(source), None, source.splitlines(True), filename)
        module = types.ModuleType(job.get("module", "submission"))
        module.__file__ = filename
        try:
            code = compile(source, filename, "exec")
        except _BaseException as exc:  # noqa: BLE001
            channel.send({"event": "import_error", "exception": _describe_exception(exc, filename)})
            _exit(0)
        sys.modules[module.__name__] = module
        module.__dict__["__builtins__"] = builtins  # not the trampoline's few
        loaded, error, _ = _run_apart(exec, code, module.__dict__)
        _KEPT.append(error)
        if not loaded:
            channel.send({"event": "import_error", "exception": _describe_exception(error, filename)})
            _exit(0)
        channel.send({"event": "loaded"})
        for index, task in enumerate(job["tasks"]):
            if index < job.get("start_task", 0):
                continue
            channel.send({"event": "start", "task": index})
            result = _run_function_task(module, task, filename, guards)  # answers are read by the parent
            channel.send({"event": "done", "task": index, "result": result})
            _run_apart(shield.collect)  # cycles (and their finalisers) are freed off this thread
        channel.send({"event": "finished"})
    except _BaseException as exc:  # noqa: BLE001 - report, never raise out of the child
        try:
            channel.send({"event": "harness_error",
                          "message": f"{_class_name(_type(exc))}: {_exception_message(exc)}"[:2000]})
        except _BaseException:  # noqa: BLE001
            pass
    for stream in streams:  # what the student printed without a newline
        try:
            stream.flush()
        except _BaseException:  # noqa: BLE001
            pass
    _exit(0)
