"""The typed model of `course.yaml` and `exercises/<id>.yaml`.

Every YAML file is validated here once, at the boundary (see `loader.py`);
everything downstream takes these frozen objects. Field docstrings are the
YAML reference (`grade schema` and docs/ are generated from them).
"""

from __future__ import annotations

import ast
import keyword
import string
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from grader.errors import did_you_mean

FORMAT_VERSION = 1

DeviceName = Literal["cpu", "cuda", "mps", "meta"]
NumpyDTypeName = Literal["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
DTypeName = Literal[
    "float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
    "uint8", "bool", "complex64",
]


class Strict(BaseModel):
    """Frozen, and unknown keys are errors (with a suggestion, see loader)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


# ---------------------------------------------------------------- values

class TensorValue(Strict):
    """A literal tensor: `{tensor: [[5, 8], [4, 6]], dtype: float32}`."""

    tensor: Any
    """Nested list of numbers, as `torch.tensor` takes it."""
    dtype: DTypeName | None = None
    """Element type; default as `torch.tensor` infers it."""
    requires_grad: bool = False
    """Make the input a leaf that requires grad."""


class RandintValue(Strict):
    """A variant integer drawn per student in `[low, high]`: `{randint: [2, 6]}`."""

    randint: tuple[int, int]
    """`[low, high]`, both included."""


class ChoiceValue(Strict):
    """A variant value chosen per student: `{choice: [a, b, c]}`."""

    choice: list[Any] = Field(min_length=1)
    """The values to choose from, each equally likely."""


Dim = Annotated[int, Field(ge=0)] | RandintValue | ChoiceValue
"""One size of a shape: a whole number, or `{randint: [2, 6]}` / `{choice: [3, 5]}` drawn per case."""


class RandomValue(Strict):
    """A seeded random tensor: `{random: randn, shape: [3, 4], dtype: float64}`.

    The seed is derived from the exercise, task, case and student id, so every
    run (and every machine) sees the same numbers. A size may itself be drawn:
    `shape: [{randint: [1, 5]}, 3]` gives each student (in a `variant:`) their own shape.
    """

    random: Literal["randn", "rand", "randint"]
    """The torch function that draws the numbers: normal, uniform in [0, 1), or whole numbers."""
    shape: list[Dim]
    """Sizes of the tensor; each a whole number or a `randint`/`choice` drawn with the case's seed."""
    dtype: DTypeName = "float32"
    """Element type of the tensor."""
    low: int = 0
    """Lower bound (inclusive) for `randint`."""
    high: int = 10
    """Upper bound (exclusive) for `randint`."""
    requires_grad: bool = False
    """Make the input a leaf that requires grad."""

    @field_validator("shape")
    @classmethod
    def _sizes(cls, shape: list[Any]) -> list[Any]:
        for i, dim in enumerate(shape):
            sizes = dim.choice if isinstance(dim, ChoiceValue) else dim.randint if isinstance(dim, RandintValue) else []
            if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in sizes):
                raise ValueError(f"size {i} draws from {list(sizes)}; sizes must be whole numbers >= 0")
        return shape


class NumpyValue(Strict):
    """A NumPy array, built inside the student's process right before the call:
    `{numpy: [[1, 2], [3, 4]], dtype: float64}` or
    `{numpy: {random: randn, shape: [3, 4], dtype: float64}}`.

    Only tensors and plain values cross between the grader and the student's
    process, so the array travels as a tensor and becomes an `ndarray` there.
    Tasks that take one run on `cpu` only (`devices: [cpu]`, `meta: false`).
    """

    numpy: list[Any] | RandomValue
    """The array's data as a nested list, or a seeded random tensor spec."""
    dtype: NumpyDTypeName | None = None
    """Element type of a literal array; default as `numpy.array` infers it (int64 / float64)."""


class DTypeValue(Strict):
    """A `torch.dtype` passed as an argument: `{dtype: float64}`."""

    dtype: DTypeName
    """The dtype's name, without `torch.`."""


class DeviceValue(Strict):
    """The device being checked, passed as a string (`cpu`, `cuda`, `meta`): `{device: checked}`."""

    device: Literal["checked"]
    """Always `checked`: the function gets `"cpu"`, `"cuda"`, `"meta"`, ... in turn."""


class FormatValue(Strict):
    """Text filled in per student, e.g. a quiz expression:
    `{format: "torch.zeros({a}, {b}).view({c}, -1)", with: {a: {randint: [2, 6]}, b: {choice: [3, 4]}, c: 2}}`.

    Each `{name}` of the template is replaced by its `with` entry, drawn with
    the case's seed (in the order written); text choices are inserted as they are.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True, populate_by_name=True)

    format: str
    """A Python format string: `{name}` marks a place to fill, `{{` and `}}` stand for braces."""
    with_: dict[str, RandintValue | ChoiceValue | int | float | str | bool] = Field({}, alias="with")
    """What fills each `{name}`: a whole number, text, `{randint: [lo, hi]}` or `{choice: [...]}`."""

    @model_validator(mode="after")
    def _fields_match(self) -> FormatValue:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(self.format) if name is not None}
        except ValueError as exc:
            raise ValueError(f"format: {exc}; write {{{{ and }}}} for literal braces") from None
        bad = [n for n in names if not n.isidentifier()]
        if bad:
            raise ValueError(f"format: place '{{{bad[0]}}}' must be a plain name like {{a}}")
        missing = sorted(names - set(self.with_))
        if missing:
            raise ValueError(f"format uses {{{missing[0]}}} but 'with' does not say what fills it")
        unused = sorted(set(self.with_) - names)
        if unused:
            raise ValueError(f"with: '{unused[0]}' is not used in the format string")
        return self


class ShapesValue(Strict):
    """Variant shapes for a broadcasting question, drawn per student.

    `{shapes: {count: 2, ndim: [1, 4], max_size: 6, compatible: 0.6}}` gives a
    list of `count` distinct shapes that broadcast together with probability `compatible`;
    `slot: N` instead deals the kind of answer per student (see `slot`).
    """

    class Spec(Strict):
        """How the shapes of a `shapes:` value are drawn."""

        count: int = Field(2, ge=2, le=4)
        """How many shapes (2 to 4)."""
        ndim: tuple[int, int] = (1, 4)
        """Fewest and most dimensions of a shape."""
        max_size: int = Field(6, ge=2, le=64)
        """Largest size of a dimension."""
        compatible: float = Field(0.6, ge=0, le=1)
        """Probability that the shapes broadcast together (otherwise one size clashes); not used with `slot`."""
        slot: int | None = Field(None, ge=0)
        """This question's place in the student's deal of answer kinds: questions with slots 0, 1,
        2, ... get "error", one of the inputs' shapes and a new shape in turn, in an order shuffled
        per student, so a student never gets one kind much more often than the others."""

    shapes: Spec
    """How to draw them."""


def _value_tag(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("tensor", "random", "numpy", "dtype", "device", "randint", "choice", "shapes", "format"):
            if key in value:
                return key
        return "mapping"
    return "plain"


Plain = int | float | str | bool | None | list[Any]

Value = Annotated[
    (
        Annotated[TensorValue, Tag("tensor")]
        | Annotated[RandomValue, Tag("random")]
        | Annotated[NumpyValue, Tag("numpy")]
        | Annotated[DTypeValue, Tag("dtype")]
        | Annotated[DeviceValue, Tag("device")]
        | Annotated[RandintValue, Tag("randint")]
        | Annotated[ChoiceValue, Tag("choice")]
        | Annotated[ShapesValue, Tag("shapes")]
        | Annotated[FormatValue, Tag("format")]
        | Annotated[dict[str, Any], Tag("mapping")]
        | Annotated[Plain, Tag("plain")]
    ),
    Discriminator(_value_tag),
]
"""An argument value: a plain YAML value, or one of the tagged forms above."""


# ---------------------------------------------------------------- rules

class RequireAutograd(Strict):
    """The function's result must be a gradient the autograd engine produced, during the
    call, for a leaf (or `inputs=` tensor) holding the values of one of its tensor
    arguments: by `backward()`, `torch.autograd.grad` or `torch.func` (which uses it).
    A second derivative counts when the engine produced it for the input, whatever the
    differentiated scalar was (`create_graph=True` makes a first gradient such a scalar)."""

    kind: Literal["require_autograd"]
    """Names the rule."""
    feedback: str = "use autograd: compute the gradient with backward() or torch.autograd.grad"
    """What the student reads when no backward pass ran."""
    items: list[int] | None = Field(None, min_length=1)
    """For a function that returns a tuple: the positions (from 0) of the items that are
    gradients, e.g. `[1, 2]` for `(y, w.grad, b.grad)`; default every item."""


class ForbidCalls(Strict):
    """Calls that may not happen inside the function, however they are reached: seen at
    torch's dispatcher, in every thread, TorchScript, custom ops and autograd.Function.
    One entry covers its aten op's whole family, read from torch's operator registry:
    every overload (`out=` variants), the in-place form (`clamp_`), private and foreach
    kernels (`_stack`, `_foreach_clamp_min`), the one-sided `_min`/`_max` variants, and
    any alias or function that runs the op (`torch.clip`, `F.hardtanh` run `aten::clamp`)."""

    kind: Literal["forbid_calls"]
    """Names the rule."""
    calls: list[str] = Field(min_length=1)
    """Dotted names of torch functions that run an aten op, e.g. `torch.nn.functional.linear`,
    `torch.Tensor.clamp` or `torch.ops.aten.linear`."""
    feedback: str
    """What the student reads after a forbidden call (say what to use instead)."""


class GradientsFlow(Strict):
    """Gradients of the output's sum must reach these arguments, and match the
    reference's gradients (catches results detached from the graph)."""

    kind: Literal["gradients_flow"]
    """Names the rule."""
    to: list[str] = Field(min_length=1)
    """Argument names that are made leaves requiring grad."""
    feedback: str = "gradients must flow from the output back to the inputs"
    """What the student reads when no gradient (or a wrong one) reaches an argument."""


class StayInTorch(Strict):
    """The computation must stay in torch: no NumPy (or other array library) computing on the
    inputs' data. Checked as gradients: the output's sum must carry to every floating-point
    tensor argument the same gradients as the reference's (a result made elsewhere and
    wrapped into a tensor carries none)."""

    kind: Literal["stay_in_torch"]
    """Names the rule."""
    feedback: str = "stay in torch: compute the result with torch operations on the given tensors (no .numpy())"
    """What the student reads when the result did not come out of torch's operations."""


class RequireCalls(Strict):
    """At least one of these calls must happen inside the function (observed as for
    `forbid_calls`): the lesson is the call, e.g. `torch.Tensor.cpu` for a function that
    brings a tensor to the host, which on a CPU-only grader changes nothing visible."""

    kind: Literal["require_calls"]
    """Names the rule."""
    calls: list[str] = Field(min_length=1)
    """Dotted names, e.g. `torch.Tensor.cpu`; any one of them satisfies the rule."""
    feedback: str
    """What the student reads when none of them was called."""


class CreatedOn(Strict):
    """Every tensor that a torch operation creates during the call (factories such as
    `torch.zeros`, and the results of computations) is created on `device`; observed at
    torch's dispatcher. `checked` catches `torch.zeros(n).to(device)` (made on the CPU, then
    copied); `cpu` catches random numbers drawn on another device's generator. Copies made by
    `.to()`, `.cpu()`, `.cuda()` are allowed: they are how a tensor legitimately moves."""

    kind: Literal["created_on"]
    """Names the rule."""
    device: Literal["checked", "cpu"] = "checked"
    """`checked`: the device the case runs on; `cpu`: always the CPU."""
    feedback: str
    """What the student reads when a tensor was created elsewhere."""


class SharesMemory(Strict):
    """The result shares (or must not share) memory with an argument, a tensor or a NumPy
    array: `torch.from_numpy(a)` shares, `torch.tensor(a)` copies. Observed in the
    student's process right after the call."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True, populate_by_name=True)

    kind: Literal["shares_memory"]
    """Names the rule."""
    with_: str = Field(alias="with")
    """The argument whose memory the result must share (or not)."""
    shared: bool = True
    """`true`: the result must share the argument's memory; `false`: it must own its data."""
    feedback: str
    """What the student reads when the result shares memory where it must not, or the reverse."""


class MaxTorchOps(Strict):
    """The function may run at most `limit` torch operations per call (counted at torch's
    dispatcher). A Python loop over rows or elements runs one or more operations per
    iteration, so with a case larger than `limit` a loop fails where the vectorised code,
    a few operations whatever the size, passes."""

    kind: Literal["max_torch_ops"]
    """Names the rule."""
    limit: int = Field(ge=0)
    """Operations allowed per call; pick it well below the size of the largest case."""
    count: Literal["all", "writes"] = "all"
    """`all`: every operation; `writes`: only those that write into a tensor (`mul_`, `copy_`,
    `out=`, item assignment), e.g. `limit: 0` when the change must be made through NumPy."""
    feedback: str
    """What the student reads when the function ran more operations (say how to vectorise)."""


Rule = Annotated[RequireAutograd | ForbidCalls | GradientsFlow | RequireCalls | CreatedOn | SharesMemory
                 | MaxTorchOps | StayInTorch, Field(discriminator="kind")]

PROBE_NAMES = ("input", "zeros", "ones", "constant", "copied_inputs", "float_for_int")
"""The generic wrong answers `grade check` tries against every function task (see probes.py)."""
ProbeName = Literal["input", "zeros", "ones", "constant", "copied_inputs", "float_for_int"]


# ---------------------------------------------------------------- cases, tasks

class Case(Strict):
    """One call of the student's function (or, for an `answer` task, the
    arguments given to the reference)."""

    args: dict[str, Value] = {}
    """Keyword arguments, by parameter name."""
    expected: Any = None
    """Optional expected result written out for the learner; `grade check`
    verifies that it agrees with the reference solution."""
    hidden: bool = False
    """Hidden cases are not shown in stubs or feedback arguments."""
    variant: dict[str, Value] = {}
    """Arguments replaced per student when `--student ID` is given."""
    available: list[Literal["cuda", "mps"]] | None = None
    """Devices the function is told this machine has: during the call (and the reference's),
    `torch.cuda.is_available()` and `torch.backends.mps.is_available()` answer True for
    these and False for the others; default: the machine's real answers. Lets a CPU-only
    grader test code that chooses a device."""


class LocatedValueError(ValueError):
    """A validation error about a key below the model being validated: `path` leads from that
    model to the key, so that the loader points at the key's own line."""

    def __init__(self, message: str, *path: str | int) -> None:
        super().__init__(message)
        self.path = path


_NUMPY_NAMES = {"axis": "dim", "axes": "dims", "keepdims": "keepdim", "a": "input", "arr": "input",
                "size": "shape", "shape": "size", "newshape": "shape"}
"""NumPy's parameter names and torch's for the same thing, for "did you mean" on a case's arguments."""


def _parameter_hint(arg: str, params: list[str]) -> str:
    if _NUMPY_NAMES.get(arg) in params:
        return f"; did you mean '{_NUMPY_NAMES[arg]}'?"
    return did_you_mean(arg, params) or f"; its parameters are {', '.join(params) or 'none'}"


class Task(Strict):
    """A function the student writes (`kind: function`) or a value they set
    (`kind: answer`, a quiz question checked live against the reference)."""

    name: str
    """Python identifier: the function or variable name in the stub."""
    kind: Literal["function", "answer"] = "function"
    """`function`: the student writes a function, called once per case and device; `answer`: the
    student sets a variable, compared with the reference's result for the single case."""
    signature: str | None = None
    """For functions: `(x: torch.Tensor) -> torch.Tensor`."""
    doc: str
    """The function's docstring, or the question of an answer task
    (`{arg}` placeholders are filled with the case's arguments)."""
    points: float = Field(1.0, ge=0)
    """Earned only if every case passes on every device checked."""
    reference: str | None = None
    """Name of the reference function in `solutions/<id>.py`; default: `name`."""
    timeout: float | None = Field(None, gt=0, le=3600, allow_inf_nan=False)
    """Seconds of wall-clock time for this task (all devices); default from course."""
    devices: list[DeviceName] | None = None
    """Restrict the devices checked (e.g. `[cpu]` for seeded random numbers)."""
    meta: bool = True
    """Also check on the `meta` device (shape, dtype, device-agnosticism)."""
    meta_cases: int = Field(2, ge=1)
    """How many cases (the first ones) also run on `meta`. Meta shows whether the code is
    device-agnostic, which a couple of cases show as well as all of them, and torch's meta
    kernels run in Python (milliseconds a call, where cpu takes microseconds)."""
    values_on: list[DeviceName] | None = None
    """Devices whose values are compared; default every device but `meta`."""
    rtol: float | None = Field(None, ge=0)
    """Relative tolerance for floating point values; default depends on the dtype (1.3e-6 for float32)."""
    atol: float | None = Field(None, ge=0)
    """Absolute tolerance for floating point values; default depends on the dtype (1e-5 for float32)."""
    check_inputs_unchanged: bool = True
    """Require every tensor argument to be unchanged after the call (except those in `modifies`)."""
    check_repeatable: bool = True
    """Call twice and require the same result (catches accumulating `.grad`)."""
    modifies: list[str] = []
    """Arguments the function is meant to change in place (`out=`, `add_`, an optimiser step):
    after the call each must hold what the reference solution left in it."""
    check_grad_flags: bool = False
    """Also compare `requires_grad` and `is_leaf` of every returned tensor with the reference's."""
    result_device: DeviceName | None = None
    """Returned tensors must be on this device whatever device is checked (e.g. `cpu` for a
    function that brings results back to the host); default: the device being checked."""
    answer_form: Literal["shape", "value"] = "shape"
    """For answer tasks: `shape` takes a tuple of sizes (or `torch.Size([...])`) or the string "error";
    `value` takes any plain value (text, number, bool, tuple, a dtype such as torch.float32 or
    "float32"). Either way the answer is the literal the file assigns at the top level, read from
    the source (`ast.literal_eval`), never computed by running it."""
    wrong_answer: str | None = None
    """For answer tasks: the feedback after a well-formed but wrong answer."""
    rules: list[Rule] = []
    """Rules observed while the function runs; a broken rule fails the task with its feedback."""
    probes_exempt: dict[ProbeName, Annotated[str, Field(min_length=1)]] = {}
    """Generic wrong answers of `grade check` that are right for this task, each with the reason:
    `{zeros: "the result of a seeded draw may be anything"}`. Probes: `input` (an argument returned
    unchanged), `zeros` / `ones` (zeros_like / ones_like of the expected result), `constant` (the
    first visible case's expected result, whatever the arguments), `copied_inputs` (the reference
    run on copies of the arguments, where a task changes or shares them), `float_for_int`."""
    hints: list[str] = []
    """Shown one at a time by `grade hint`; `grade check` asks for at least two."""
    cases: list[Case] = Field(min_length=1)
    """The calls to grade (function tasks) or the question's arguments (answer tasks: exactly one)."""
    placeholder: str = "..."
    """For answer tasks: the stub's initial value."""
    answer_help: str | None = None
    """For answer tasks: a comment telling the form of the answer."""

    @field_validator("name")
    @classmethod
    def _identifier(cls, name: str) -> str:
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"'{name}' is not a valid Python name")
        return name

    @field_validator("signature")
    @classmethod
    def _signature(cls, sig: str | None) -> str | None:
        if sig is None:
            return sig
        try:
            ast.parse(f"def f{sig}:\n    pass\n")
        except SyntaxError as exc:
            raise ValueError(f"not a valid signature ({exc.msg}); "
                             "write it like '(x: torch.Tensor) -> torch.Tensor'") from None
        return sig

    @model_validator(mode="after")
    def _kind_fields(self) -> Task:
        if self.kind == "function" and self.signature is None:
            raise ValueError("a function task needs a 'signature', e.g. '(x: torch.Tensor) -> torch.Tensor'")
        if self.kind == "answer" and len(self.cases) != 1:
            raise ValueError("an answer task takes exactly one case (the arguments of its question)")
        if self.kind == "function":
            params = self.parameters
            for arg in self.modifies:
                if arg not in params:
                    raise ValueError(f"modifies names '{arg}', which is not a parameter of {self.name}{self.signature}")
            for rule in self.rules:
                if isinstance(rule, SharesMemory) and rule.with_ not in params:
                    raise ValueError(f"shares_memory names '{rule.with_}', which is not a parameter of "
                                     f"{self.name}{self.signature}")
            for i, case in enumerate(self.cases):
                for where, args in (("args", case.args), ("variant", case.variant)):
                    for arg in args:
                        if arg not in params:
                            raise LocatedValueError(f"not a parameter of {self.name}{self.signature}"
                                                    f"{_parameter_hint(arg, params)}", "cases", i, where, arg)
        return self

    @property
    def parameters(self) -> list[str]:
        if self.signature is None:
            return []
        fn = ast.parse(f"def f{self.signature}:\n    pass\n").body[0]
        assert isinstance(fn, ast.FunctionDef)
        a = fn.args
        return [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]


class Exercise(Strict):
    """One exercise file: `exercises/<id>.yaml`."""

    format_version: Literal[1] = Field(description="Always 1 for this version of the grader.")
    title: str
    """Shown by `grade list` and at the top of the stub."""
    text: str
    """What the student reads first (stub docstring, notebook markdown)."""
    imports: list[str] = ["import torch"]
    """Lines at the top of the stub."""
    tasks: list[Task] = Field(min_length=1)
    """What the student writes, in the order of the stub; task names must be unique."""

    @field_validator("tasks")
    @classmethod
    def _unique_names(cls, tasks: list[Task]) -> list[Task]:
        first: dict[str, int] = {}
        for i, task in enumerate(tasks):
            if task.name in first:
                raise ValueError(f"tasks[{first[task.name]}] and tasks[{i}] are both named '{task.name}'; "
                                 "task names must be unique")
            first[task.name] = i
        return tasks

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.tasks)


class Defaults(Strict):
    """Course-wide defaults; tasks and the command line override them."""

    timeout: float = Field(5.0, gt=0, le=3600, allow_inf_nan=False)
    """Seconds of wall-clock time per task."""
    import_timeout: float = Field(10.0, gt=0, le=3600, allow_inf_nan=False)
    """Seconds allowed to load the student's file."""
    memory_mb: int = Field(2048, ge=64)
    """Extra memory a submission may allocate, in MiB."""
    output_limit: int = Field(4000, ge=100)
    """Characters of the student's printed output kept in the report."""
    result_mb: int = Field(256, ge=1, le=4096)
    """MiB of results (text and tensor bytes) the grader reads back from one submission of one exercise;
    a submission that sends more gets an error for the task it was running."""


class Gradescope(Strict):
    """How `--format gradescope` reports a course's tasks."""

    hidden_visibility: Literal["hidden", "after_due_date", "after_published", "visible"] = "after_published"
    """Gradescope visibility of the tests that report a task's hidden cases (a task's visible cases are
    always a visible test)."""


DEADLINE_EXAMPLE = "2025-03-01T23:59:00+01:00"
DEADLINE_FORM = f"must be a date and time with its timezone, e.g. {DEADLINE_EXAMPLE} (Z for UTC)"
"""What the loader says about a deadline it cannot read (loader._TEMPLATES, and `_deadline_text`)."""


def _deadline_text(value: Any) -> Any:
    """A deadline as the YAML loader hands it over, as text for pydantic to parse (an unquoted
    `2025-03-01T23:59:00+01:00` arrives as a datetime). A date alone is not a deadline (which
    minute of which timezone?), nor is a number (pydantic would take it for a Unix time)."""
    day = value if isinstance(value, date) and not isinstance(value, datetime) else None
    if isinstance(value, str) and len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
    if day is not None:
        raise ValueError(f"a date alone has no time or timezone; write e.g. {day.isoformat()}T23:59:00+01:00 "
                         "(Z for UTC)")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return value
    raise ValueError(f"{DEADLINE_FORM} (got {value!r})")


Deadline = Annotated[AwareDatetime, BeforeValidator(_deadline_text)]
"""An ISO 8601 date and time with its offset from UTC."""


class Course(Strict):
    """The course file: `course.yaml`."""

    format_version: Literal[1]
    """Always 1 for this version of the grader."""
    title: str
    """Shown by `grade list` and `grade check`."""
    defaults: Defaults = Defaults()  # type: ignore[call-arg]  # (mypy does not see pydantic's defaults)
    """Limits for every task unless a task or the command line says otherwise."""
    gradescope: Gradescope = Gradescope()
    """Settings of the Gradescope results (`--format gradescope`)."""
    exercises: list[str] = Field(min_length=1)
    """Exercise ids in course order; each has `exercises/<id>.yaml` and `solutions/<id>.py`."""
    deadline: Deadline | None = None
    """When every exercise is due, as an ISO 8601 date and time with its timezone:
    `2025-03-01T23:59:00+01:00` (`Z` for UTC). `grade batch` marks a submission handed in later
    as late in its reports (no points are taken off); without a deadline nothing is ever late."""
    deadlines: dict[str, Deadline] = {}
    """Deadlines of single exercises, replacing `deadline` for them:
    `{exercise3: 2025-03-08T23:59:00+01:00}`."""

    @field_validator("exercises")
    @classmethod
    def _ids(cls, ids: list[str]) -> list[str]:
        for i, ex in enumerate(ids):
            if not ex.isidentifier():
                raise ValueError(f"'{ex}' (item {i}) is not a valid exercise id; use names like exercise5")
        if len(set(ids)) != len(ids):
            dup = next(x for x in ids if ids.count(x) > 1)
            raise ValueError(f"'{dup}' is listed twice")
        return ids

    @model_validator(mode="after")
    def _deadlines_listed(self) -> Course:
        for ex_id in self.deadlines:
            if ex_id not in self.exercises:
                hint = did_you_mean(ex_id, self.exercises) or "; add it to exercises, or remove its deadline"
                raise LocatedValueError(f"'{ex_id}' is not one of the course's exercises{hint}", "deadlines", ex_id)
        return self

    def deadline_of(self, ex_id: str) -> datetime | None:
        """When `ex_id` is due: its own deadline, else the course's; None when it has none."""
        return self.deadlines.get(ex_id, self.deadline)
