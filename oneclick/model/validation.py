"""Validate source data against the pydantic model and phrase every error at its place.

``validate_source(source, model)`` validates ``source.data`` against ``AppModel`` or
``LibraryModel``. Each pydantic error becomes a ``Problem``: an unknown key is reported at
the key (with the keys that are allowed, and the closest one), a bad value at the value, a
missing key at the mapping that lacks it.

So that the whole-model checks can still run and all problems are reported in one go, the
result also carries a *pruned* model: the data validated again without the list items (an
entity, an attribute, a screen ...) that hold errors, with optional top-level keys that are
wrong left out. ``index_map`` and ``pruned`` tell the checks how to find their way back to
the file and which names were left out, so they do not report them as missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from oneclick.errors import Problem
from oneclick.model import types as t
from oneclick.model.report import describe, file_path, names, suggest
from oneclick.model.source import DataPath, Source

M = TypeVar("M", bound=BaseModel)

_NOUNS: dict[type[BaseModel], str] = {
    t.AppModel: "app",
    t.LibraryModel: "library",
    t.LibraryRef: "library reference",
    t.LibraryRequirement: "library reference",
    t.Entity: "entity",
    t.Attribute: "attribute",
    t.Index: "index",
    t.Screen: "screen",
    t.Setting: "setting",
    t.Secret: "secret",
    t.StaticEntity: "static entity",
    t.Record: "record",
}
_CONTAINERS = {t.AppModel: "the app model", t.LibraryModel: "the library model"}
_NAME_FIELDS = {(t.AppModel, "app"), (t.LibraryModel, "library")}
_PATTERN_HINTS = {
    t.APP_NAME: "use lower case letters, digits and '-', starting with a letter (2-40 long)",
    t.PASCAL_NAME: "use PascalCase: an upper case letter first, then letters and digits",
    t.RECORD_KEY: "start with a letter, then letters, digits and '_'",
}
_PLACEHOLDERS = {"app": "invalid-app", "library": "invalid-library", "version": "0.0.0"}
_MAX_ROUNDS = 6


@dataclass
class ValidationResult(Generic[M]):
    """Problems found by pydantic, and the model checked without the items that hold them."""

    problems: list[Problem]
    model: M | None
    index_map: dict[DataPath, list[int]] = field(default_factory=dict)
    pruned: dict[DataPath, Any] = field(default_factory=dict)


def validate_source(source: Source, model: type[M]) -> ValidationResult[M]:
    """Validate ``source.data`` as ``model``; see the module docstring."""
    try:
        return ValidationResult([], model.model_validate(source.data))
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    problems = _phrase_errors(source, model, errors)
    targets: set[DataPath] = set()
    index_map: dict[DataPath, list[int]] = {}
    data: dict[str, Any] = source.data
    for _ in range(_MAX_ROUNDS):
        new = {file_path(_prune_target(data, model, error), index_map) for error in errors}
        if not new - targets or () in new:
            return ValidationResult(problems, None)
        targets |= new
        data, index_map, pruned = _pruned_copy(source.data, model, targets)
        try:
            return ValidationResult(problems, model.model_validate(data), index_map, pruned)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
    return ValidationResult(problems, None)


# --- phrasing ---------------------------------------------------------------------------


def _phrase_errors(
    source: Source, model: type[BaseModel], errors: list[ErrorDetails]
) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[DataPath] = set()
    for error in errors:
        path, owner = _data_path(source.data, model, error["loc"])
        kind = error["type"]
        if kind == "extra_forbidden":
            key = str(error["loc"][-1])
            problems.append(source.problem((*path, key), _unknown_key(owner, key), at_key=True))
        elif kind == "missing":
            problems.append(source.problem(path, _missing_key(owner, str(error["loc"][-1]))))
        elif path not in seen:
            seen.add(path)
            value = _value_at(source.data, path)
            problems.append(source.problem(path, _bad_value(error, model, path, value)))
    return problems


def _unknown_key(owner: Any, key: str) -> str:
    if not _is_model(owner):
        return f"unknown key '{key}'"
    allowed = list(owner.model_fields)
    where = _CONTAINERS.get(owner) or _NOUNS.get(owner, owner.__name__)
    return f"unknown key '{key}' in {where}; expected one of: {names(allowed)}" + suggest(
        key, allowed
    )


def _missing_key(owner: Any, key: str) -> str:
    if not _is_model(owner):
        return f"missing key '{key}'"
    where = _CONTAINERS.get(owner) or _NOUNS.get(owner, owner.__name__)
    required = [name for name, info in owner.model_fields.items() if info.is_required()]
    return f"missing key '{key}' in {where}; required keys: {names(required)}"


def _bad_value(error: ErrorDetails, model: type[BaseModel], path: DataPath, value: Any) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    parent = _annotation_at(model, path[:-1]) if path else None
    if path and isinstance(path[-1], int):
        item = _list_item(parent)
        if _is_model(item):
            noun = _NOUNS.get(item, "item")
            return f"expected a mapping (key: value pairs) for each {noun}, found {describe(value)}"
        list_owner = _annotation_at(model, path[:-2]) if len(path) > 1 else None
        label = f"an item of {_label(list_owner, str(path[-2]))}" if len(path) > 1 else "item"
    else:
        label = _label(parent, str(path[-1])) if path else "the model"
    if path and path[-1] == "default" and len(error["loc"]) > len(path):
        return f"{label}: expected a single value (text, a number or true/false), found " + (
            describe(value)
        )
    if kind == "string_pattern_mismatch":
        return _pattern_message(label, value, str(ctx.get("pattern", "")))
    if kind == "literal_error":
        choices = _literal_choices(parent, str(path[-1]))
        return f"{label} '{value}' is not one of: {names(choices)}" + suggest(str(value), choices)
    expected = _EXPECTED.get(kind)
    if expected is not None:
        hint = "; put it in quotes" if kind == "string_type" and _is_number(value) else ""
        return f"{label}: expected {expected}, found {describe(value)}{hint}"
    if kind == "too_short":
        return f"{label}: expected at least {ctx.get('min_length', 1)} item, found none"
    if kind == "string_too_short":
        return f"{label} must not be empty"
    if kind == "greater_than_equal":
        return f"{label} must be at least {ctx.get('ge')}, found {describe(value)}"
    if kind == "less_than_equal":
        return f"{label} must be at most {ctx.get('le')}, found {describe(value)}"
    return f"{label}: {error['msg']}"


_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list (lines starting with '- ')",
    "dict_type": "a mapping (key: value pairs)",
    "model_type": "a mapping (key: value pairs)",
}


def _label(owner: Any, key: str) -> str:
    if (owner, key) in _NAME_FIELDS:
        return f"{_NOUNS[owner]} name"
    return f"{_NOUNS.get(owner, 'value')} {key}" if _is_model(owner) else key


def _pattern_message(label: str, value: Any, pattern: str) -> str:
    if pattern == t.SEMVER:
        return f"{label} '{value}' is not a semantic version: write MAJOR.MINOR.PATCH, e.g. 1.2.0"
    shown = pattern.removeprefix("^").removesuffix("$")
    hint = _PATTERN_HINTS.get(pattern)
    message = f"{label} '{value}' does not match {shown}" + (f": {hint}" if hint else "")
    candidate = _conforming(pattern, str(value))
    return message + (f" (did you mean '{candidate}'?)" if candidate else "")


def _conforming(pattern: str, value: str) -> str | None:
    """``value`` rewritten to match a name pattern, when a simple rewrite does."""
    if pattern == t.PASCAL_NAME:
        parts = re.split(r"[^A-Za-z0-9]+", value)
        candidate = "".join(part[:1].upper() + part[1:] for part in parts)
    elif pattern == t.APP_NAME:
        candidate = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    else:
        return None
    return candidate if candidate != value and re.match(pattern, candidate) else None


def _literal_choices(owner: Any, key: str) -> list[str]:
    if not _is_model(owner) or key not in owner.model_fields:
        return []
    annotation = owner.model_fields[key].annotation
    return [str(arg) for arg in get_args(annotation)] if get_origin(annotation) is Literal else []


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- walking data and annotations together ------------------------------------------------


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _list_item(annotation: Any) -> Any:
    return get_args(annotation)[0] if get_origin(annotation) is list else None


def _step(annotation: Any, part: str | int) -> Any:
    if isinstance(part, int):
        return _list_item(annotation)
    if _is_model(annotation) and part in annotation.model_fields:
        return annotation.model_fields[part].annotation
    return None


def _annotation_at(model: type[BaseModel], path: DataPath) -> Any:
    annotation: Any = model
    for part in path:
        annotation = _step(annotation, part)
    return annotation


def _data_path(
    data: Any, model: type[BaseModel], loc: tuple[str | int, ...]
) -> tuple[DataPath, Any]:
    """The longest prefix of ``loc`` present in both the data and the model, and its type."""
    path: list[str | int] = []
    annotation: Any = model
    for part in loc:
        following = _step(annotation, part)
        if following is None or not _has(data, part):
            break
        path.append(part)
        data, annotation = data[part], following
    return tuple(path), annotation


def _has(data: Any, part: str | int) -> bool:
    if isinstance(part, int):
        return isinstance(data, list) and 0 <= part < len(data)
    return isinstance(data, dict) and part in data


def _value_at(data: Any, path: DataPath) -> Any:
    for part in path:
        data = data[part]
    return data


# --- pruning ---------------------------------------------------------------------------


def _prune_target(data: Any, model: type[BaseModel], error: ErrorDetails) -> DataPath:
    """What to leave out so that ``error`` goes: a key, a list item, or () when nothing can.

    An unknown key, or a bad value of an optional key, goes on its own; any other error takes
    the list item holding it (an attribute, an entity ...) or a top-level key with it.
    """
    loc = error["loc"]
    path, _ = _data_path(data, model, loc)
    if error["type"] == "extra_forbidden":
        return (*path, loc[-1])
    if error["type"] != "missing" and path and isinstance(path[-1], str):
        owner = _annotation_at(model, path[:-1])
        if _is_model(owner) and not owner.model_fields[path[-1]].is_required():
            return path
    items = [i for i, part in enumerate(path) if isinstance(part, int)]
    if items:
        return path[: items[-1] + 1]
    if path:
        return path[:1]
    key = loc[0] if loc else None
    return (key,) if isinstance(key, str) and key in _PLACEHOLDERS else ()


def _pruned_copy(
    data: dict[str, Any], model: type[BaseModel], targets: set[DataPath]
) -> tuple[dict[str, Any], dict[DataPath, list[int]], dict[DataPath, Any]]:
    """A copy of ``data`` without ``targets``; the index map; the list items left out."""
    index_map: dict[DataPath, list[int]] = {}
    pruned: dict[DataPath, Any] = {}

    def copy_value(value: Any, path: DataPath) -> Any:
        if isinstance(value, dict):
            return {
                key: copy_value(item, (*path, key))
                for key, item in value.items()
                if (*path, key) not in targets
            }
        if not isinstance(value, list):
            return value
        kept = [i for i in range(len(value)) if (*path, i) not in targets]
        pruned.update({(*path, i): value[i] for i in range(len(value)) if i not in kept})
        index_map[path] = kept
        return [copy_value(value[i], (*path, i)) for i in kept]

    result: dict[str, Any] = copy_value(data, ())
    for key, placeholder in _PLACEHOLDERS.items():
        info = model.model_fields.get(key)
        if (key,) in targets and info is not None and info.is_required():
            result[key] = placeholder
    return result, index_map, pruned
