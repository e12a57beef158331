"""The YAML files' JSON Schema and Markdown reference, generated from the models in `schema.py`.

Editors validate and complete `course.yaml` and `exercises/*.yaml` with the
JSON Schema (`grade schema`); instructors read the Markdown reference
(`grade schema --markdown`, committed as docs/yaml-reference.md). Both come
from the same field docstrings, so they cannot drift apart from the code.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any, Literal, get_args, get_origin

from pydantic import AwareDatetime, BaseModel, Discriminator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from grader import schema

KINDS = ("course", "exercise")
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILES = {"course": "course.schema.json", "exercise": "exercise.schema.json"}
"""File names under docs/schema/ (what `# yaml-language-server: $schema=...` lines point at)."""


def _model(kind: str) -> type[BaseModel]:
    models: dict[str, type[BaseModel]] = {"course": schema.Course, "exercise": schema.Exercise}
    return models[kind]


def _any_of(node: Any) -> Any:
    """pydantic writes `oneOf` for a union picked by a function; an argument such as
    `{tensor: [1, 2]}` also matches the plain-mapping branch, so editors need `anyOf`."""
    if isinstance(node, dict):
        out = {k: _any_of(v) for k, v in node.items()}
        if "oneOf" in out and "discriminator" not in out:
            out["anyOf"] = out.pop("oneOf")
        return out
    if isinstance(node, list):
        return [_any_of(v) for v in node]
    return node


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of `course.yaml` or of an exercise file."""
    body = _any_of(_model(kind).model_json_schema(by_alias=True))
    title = "course.yaml" if kind == "course" else "exercises/<id>.yaml"
    return {"$schema": JSON_SCHEMA_DIALECT, "title": title, **{k: v for k, v in body.items() if k != "title"}}


def json_text(kind: str | None) -> str:
    """`grade schema [KIND]` output: one schema, or both keyed by kind."""
    data: Any = json_schema(kind) if kind else {k: json_schema(k) for k in KINDS}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- Markdown reference

_SECTIONS: list[tuple[str, list[type[BaseModel]]]] = [
    ("course.yaml", [schema.Course, schema.Defaults, schema.Gradescope]),
    ("Exercise files", [schema.Exercise, schema.Task, schema.Case]),
    ("Rules (`rules:` of a task)", [schema.RequireAutograd, schema.ForbidCalls, schema.GradientsFlow,
                                    schema.RequireCalls, schema.CreatedOn, schema.SharesMemory, schema.MaxTorchOps,
                                    schema.StayInTorch]),
    ("Argument values (`args:`, `variant:` of a case)", [
        schema.TensorValue, schema.RandomValue, schema.NumpyValue, schema.DTypeValue, schema.DeviceValue,
        schema.RandintValue, schema.ChoiceValue, schema.FormatValue, schema.ShapesValue, schema.ShapesValue.Spec,
    ]),
]

_TITLES = {
    "Course": "course.yaml", "Defaults": "defaults", "Gradescope": "gradescope", "Exercise": "exercise file",
    "Task": "task",
    "Case": "case", "RequireAutograd": "kind: require_autograd", "ForbidCalls": "kind: forbid_calls",
    "GradientsFlow": "kind: gradients_flow", "RequireCalls": "kind: require_calls",
    "CreatedOn": "kind: created_on", "SharesMemory": "kind: shares_memory", "MaxTorchOps": "kind: max_torch_ops",
    "StayInTorch": "kind: stay_in_torch",
    "TensorValue": "tensor: a literal tensor",
    "RandomValue": "random: a seeded random tensor", "NumpyValue": "numpy: a NumPy array",
    "DTypeValue": "dtype: a torch.dtype", "DeviceValue": "device: the device being checked",
    "RandintValue": "randint: a whole number drawn per student", "ChoiceValue": "choice: one of several values",
    "FormatValue": "format: text filled in per student", "ShapesValue": "shapes: shapes for a broadcasting quiz",
    "Spec": "the mapping under shapes:",
}


def _anchor(model: type[BaseModel]) -> str:
    return model.__qualname__.replace(".", "").lower()


def _title(model: type[BaseModel]) -> str:
    return _TITLES.get(model.__name__, model.__name__)


def _is_value(annotation: Any) -> bool:
    return any(isinstance(m, Discriminator) for m in getattr(annotation, "__metadata__", ()))


def type_text(annotation: Any) -> str:
    """A field's type as an instructor reads it: `list of [task](#task)`, `\"cpu\" | \"meta\"`, ..."""
    if annotation is None or annotation is type(None):
        return "null"
    if annotation is Any:
        return "any value"
    if _is_value(annotation):
        return "[argument value](#argument-values-args-variant-of-a-case)"
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is typing.Annotated:
        return type_text(args[0])
    if origin is Literal:
        return " \\| ".join(f"`{json.dumps(a)}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_text(a) for a in args)
    if origin is list:
        if not args:
            return "list"
        item = type_text(args[0])
        return f"list of ({item})" if " or " in item or "\\|" in item else f"list of {item}"
    if origin is tuple:
        return f"[{', '.join(type_text(a) for a in args)}]"
    if origin is dict:
        return f"mapping of name to {type_text(args[1])}" if args else "mapping"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{_title(annotation)}](#{_anchor(annotation)})"
    names = {int: "whole number", float: "number", str: "text", bool: "true/false",
             AwareDatetime: "date and time with its timezone (ISO 8601)"}
    if annotation in names:
        return names[annotation]
    return str(annotation).replace("typing.", "")


def _default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "**required**"
    default = field.get_default(call_default_factory=True)
    if default is PydanticUndefined:
        return ""
    if isinstance(default, BaseModel):
        return "(see below)"
    return f"`{json.dumps(default, default=str)}`"


def _cell(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _model_section(model: type[BaseModel]) -> list[str]:
    doc = (model.__doc__ or "").strip()
    lines = [f'<a id="{_anchor(model)}"></a>', f"### {_title(model)}", ""]
    if doc:
        lines += [" ".join(doc.split()), ""]
    lines += ["| key | type | default | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        key = field.alias or name
        lines.append(f"| `{key}` | {type_text(field.annotation)} | {_default_text(field)} | "
                     f"{_cell(field.description)} |")
    return lines + [""]


def markdown() -> str:
    """The YAML reference (docs/yaml-reference.md)."""
    lines = [
        "# YAML reference",
        "",
        "<!-- Generated by `grade schema --markdown --output docs/yaml-reference.md` from the field",
        "     docstrings in grader/schema.py; edit those, then regenerate. -->",
        "",
        "Every key the grader reads, with its type and default. Unknown keys are errors (with a",
        "suggestion), so a misspelt key never passes silently. The same information, as JSON Schema for",
        "editors, comes from `grade schema course` and `grade schema exercise`.",
        "",
    ]
    for heading, models in _SECTIONS:
        lines += [f"## {heading}", ""]
        for model in models:
            lines += _model_section(model)
    return "\n".join(lines).rstrip() + "\n"
