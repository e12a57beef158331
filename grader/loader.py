"""Reads YAML files into the typed model; the one place YAML is validated.

Errors become a `ConfigError` naming file, line and key, e.g.
`exercises/exercise3.yaml:14: tasks[0].points: must be >= 0`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from grader.errors import ConfigError, did_you_mean
from grader.schema import DEADLINE_EXAMPLE, DEADLINE_FORM, LocatedValueError

M = TypeVar("M", bound=BaseModel)

MAX_YAML_BYTES = 1_000_000
MAX_YAML_DEPTH = 64


class _Loader(yaml.SafeLoader):
    """Safe loader (no Python tags) that also refuses duplicate keys, anchors/aliases
    (billion laughs), nesting deeper than MAX_YAML_DEPTH (the composer recurses) and
    numbers too long to convert: a hostile course file gets a located error, never a
    crash or code execution."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(None, None, "aliases (*name) are not allowed in course files; "
                                       "write the value out", event.start_mark)
        if self._depth >= MAX_YAML_DEPTH:
            event = self.peek_event()
            raise yaml.MarkedYAMLError(None, None, f"nested more than {MAX_YAML_DEPTH} levels deep",
                                       event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_int(self, node: Any) -> int:
        try:
            return super().construct_yaml_int(node)
        except ValueError as exc:
            raise yaml.MarkedYAMLError(None, None, f"this number cannot be read ({exc})", node.start_mark) from None

    def construct_yaml_timestamp(self, node: Any) -> Any:
        """An unquoted date such as `2025-02-30` that is no day of the calendar: the line, not a crash."""
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise yaml.MarkedYAMLError(None, None, f"this date cannot be read ({exc})", node.start_mark) from None

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.MarkedYAMLError(None, None, f"duplicate key '{key}'", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def display_path(path: Path) -> str:
    """Path as the user should read it: relative to the current directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_model(path: Path, model: type[M]) -> M:
    """Parse and validate one YAML file, or raise a located ConfigError."""
    shown = display_path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(shown, None, "", "file not found; create it or remove its id from course.yaml") from None
    if len(raw) > MAX_YAML_BYTES:
        raise ConfigError(shown, None, "", f"file is {len(raw)} bytes, more than the {MAX_YAML_BYTES} allowed")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(shown, None, "", f"not UTF-8 text ({exc.reason} at byte {exc.start}); "
                                           "save the file as UTF-8") from None
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = _yaml_problem(exc.problem or exc.context or "invalid YAML", line)
        raise ConfigError(shown, line, "", f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(shown, None, "", f"invalid YAML: {exc}") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # whatever else a hostile file provokes
        raise ConfigError(shown, None, "", f"invalid YAML ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        required = ", ".join(n for n, f in model.model_fields.items() if f.is_required())
        if data is None:
            raise ConfigError(shown, 1, "", f"the file is empty; write its keys ({required})")
        raise ConfigError(shown, 1, "", f"the top level must be a mapping of keys ({required}), "
                                        f"not a {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _located(shown, node, model, exc) from None


class YamlLines:
    """Lines of key paths such as ("tasks", 0, "cases", 2) in one YAML file, for problems found
    after loading (`grade check`, course.yaml's layout): parsed once, by the hardened loader."""

    def __init__(self, path: Path) -> None:
        self.root: Any = None
        try:
            loader = _Loader(path.read_text(encoding="utf-8"))
            try:
                self.root = loader.get_single_node()
            finally:
                loader.dispose()
        except (OSError, UnicodeDecodeError, ValueError, RecursionError, yaml.YAMLError):
            pass

    def __call__(self, loc: tuple[Any, ...]) -> int | None:
        """The line of the deepest node of `loc` the file has; None where the file cannot be read."""
        node, _, _ = _walk(self.root, loc, None)
        return node.start_mark.line + 1 if node is not None else None


def line_of(path: Path, loc: tuple[Any, ...]) -> int | None:
    """The line of one key path in a YAML file (see YamlLines)."""
    return YamlLines(path)(loc)


def _located(shown: str, root: Any, model: type[BaseModel], exc: ValidationError) -> ConfigError:
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc = tuple(err["loc"])
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, LocatedValueError):
        loc += cause.path
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc += (str((err.get("ctx") or {}).get("discriminator", "")).strip("'"),)
    node, key, parent_model = _walk(root, loc, model)
    line = node.start_mark.line + 1 if node is not None else None
    message = _message(err, parent_model)
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''} in this file)"
    return ConfigError(shown, line, key, message)


def _walk(root: Any, loc: tuple[Any, ...], model: type[BaseModel] | None) -> tuple[Any, str, type[BaseModel] | None]:
    """Follow a pydantic error location through the YAML node tree.

    Returns the deepest node reached, the dotted key as the user wrote it, and
    the pydantic model that owns the last key (for "did you mean").
    """
    node = root
    parts: list[str] = []
    owner = model
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            keys = [getattr(k, "value", None) for k, _ in node.value]
            if not last and isinstance(loc[i + 1], str) and loc[i + 1] in keys:
                continue  # `part` is the union tag pydantic adds (`random` in x.random.dtype)
            match = next(((k, v) for k, v in node.value if getattr(k, "value", None) == part), None)
            if match is None:
                if last:
                    parts.append(part)
                continue  # a union tag pydantic adds to the path, or a missing key
            key_node, value_node = match
            parts.append(part)
            node = key_node if last else value_node
            if not last:
                owner = _field_model(owner, part)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part < len(node.value):
                parts[-1:] = [f"{parts[-1] if parts else ''}[{part}]"]
                node = node.value[part]
                owner = owner  # items of a list share the list's model
        else:
            continue
    return node, ".".join(parts), owner


def _field_model(owner: type[BaseModel] | None, field: str) -> type[BaseModel] | None:
    """The model class of a field's items, for suggestions one level down."""
    if owner is None or field not in owner.model_fields:
        return None
    ann = owner.model_fields[field].annotation
    for candidate in _models_in(ann):
        return candidate
    return None


def _models_in(ann: Any) -> list[type[BaseModel]]:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [ann]
    found: list[type[BaseModel]] = []
    for arg in getattr(ann, "__args__", ()) or ():
        found.extend(_models_in(arg))
    return found


_TEMPLATES = {
    "missing": "is required; add it",
    "greater_than_equal": "must be >= {ge}",
    "greater_than": "must be > {gt}",
    "less_than_equal": "must be <= {le}",
    "less_than": "must be < {lt}",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping of keys",
    "too_short": "must have at least {min_length} item(s)",
    "string_too_short": "must not be empty",
    "tuple_type": "must be a list",
    "datetime_type": DEADLINE_FORM,
    "datetime_parsing": DEADLINE_FORM,
    "datetime_from_date_parsing": DEADLINE_FORM,
    "timezone_aware": f"has no timezone; add its offset from UTC, e.g. {DEADLINE_EXAMPLE} (Z for UTC)",
}


def _number(value: Any) -> Any:
    """3.0 -> 3 in messages ("must be >= 0", not "must be >= 0.0")."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _got(err: Any) -> str:
    text = repr(err.get("input"))
    return f" (got {text if len(text) <= 40 else text[:37] + '...'})"


def _yaml_problem(problem: str, line: int | None = None) -> str:
    """PyYAML's wording, with what to do where it is obscure."""
    here = f"line {line}" if line else "this line"
    if problem.startswith("expected <block end>") or problem == "did not find expected key":
        return (f"check the indentation of {here}: it does not line up with the keys (or the '- ' items) "
                "it belongs with; YAML nests by indentation, with spaces")
    if problem == "mapping values are not allowed here":
        return (f"check the indentation of {here} (a key indented deeper than the one above it), or put "
                "quotes around a value that contains ': '")
    if "'\\t'" in problem:
        return "a tab character; YAML is indented with spaces only"
    if problem.startswith("could not determine a constructor for the tag"):
        tag = problem.rsplit(" ", 1)[-1].strip("'")
        tag = "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag
        return f"tags such as {tag} are not allowed in course files; write plain values"
    return problem


def _message(err: Any, owner: type[BaseModel] | None) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        bad = str(err["loc"][-1])
        allowed = list(owner.model_fields) if owner is not None else []
        hint = did_you_mean(bad, allowed)
        return f"unknown key{hint or '; allowed keys: ' + ', '.join(allowed)}" if allowed else "unknown key"
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        choices = [c.strip(" '") for c in expected.replace(" or ", ", ").split(",")]
        return f"must be one of {expected}{_got(err)}{did_you_mean(str(err.get('input')), choices)}"
    if kind == "union_tag_invalid":
        expected = str(ctx.get("expected_tags", ""))
        choices = [c.strip(" '") for c in expected.split(",")]
        return f"must be one of {expected} (got {ctx.get('tag')!r}){did_you_mean(str(ctx.get('tag')), choices)}"
    if kind == "union_tag_not_found":
        return "is required; add it"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    template = _TEMPLATES.get(kind)
    if template:
        try:
            text = template.format(**{k: _number(v) for k, v in ctx.items()})
        except (KeyError, IndexError):
            text = template
        return text + _got(err) if kind.endswith(("_type", "_parsing", "_from_float", "_aware")) else text
    return str(err["msg"])
