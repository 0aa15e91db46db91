"""Which column type changes keep every stored value (widening) and which could lose some.

Both types (one reflected from the database, one from the model) are read as the model's
kinds: text(length), integer, long, decimal(precision, scale), boolean, date, datetime (and
float or other, which the model does not produce). Widening, applied by the data tool:

- text → longer (or unbounded) text;
- integer → long;
- integer or long → decimal with room for every whole number (10 or 19 digits before the
  point);
- decimal → decimal with at least as many digits before and after the point;
- date → datetime (midnight).

Anything else could lose or change values and is refused; ``TypeVerdict`` says why and what
to do instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import types as sqltypes
from sqlalchemy.types import TypeEngine

WHOLE_DIGITS = {"integer": 10, "long": 19}
NEW_ATTRIBUTE = (
    "add a new attribute of the new type, copy the values over in the app, then delete the "
    "old attribute (it is kept in the database, retired)"
)


@dataclass(frozen=True)
class TypeKind:
    kind: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None

    def __str__(self) -> str:
        if self.kind == "text":
            return f"text({self.length})" if self.length else "text(unbounded)"
        if self.kind == "decimal" and self.precision is not None:
            return f"decimal({self.precision}, {self.scale or 0})"
        return self.kind


@dataclass(frozen=True)
class TypeVerdict:
    same: bool = False
    widening: bool = False
    reason: str = ""  # why values could be lost (when neither same nor widening)
    advice: str = ""  # what to do instead


def kind_of(type_: TypeEngine[Any]) -> TypeKind:
    """The model kind a SQL type stands for."""
    if isinstance(type_, sqltypes.Boolean):
        return TypeKind("boolean")
    if isinstance(type_, sqltypes.DateTime):
        return TypeKind("datetime")
    if isinstance(type_, sqltypes.Date):
        return TypeKind("date")
    if isinstance(type_, sqltypes.BigInteger):
        return TypeKind("long")
    if isinstance(type_, sqltypes.Integer):
        return TypeKind("integer")
    if isinstance(type_, sqltypes.Float):
        return TypeKind("float")
    if isinstance(type_, sqltypes.Numeric):
        return TypeKind("decimal", precision=type_.precision, scale=type_.scale)
    if isinstance(type_, sqltypes.String):
        return TypeKind("text", length=type_.length)
    return TypeKind(f"other:{type_!r}")


def _whole_digits(kind: TypeKind) -> int | None:
    """Digits before the point; None when unbounded."""
    if kind.kind in WHOLE_DIGITS:
        return WHOLE_DIGITS[kind.kind]
    if kind.kind == "decimal" and kind.precision is not None:
        return kind.precision - (kind.scale or 0)
    return None


def _text(old: TypeKind, new: TypeKind) -> TypeVerdict:
    if new.length is None or (old.length is not None and new.length >= old.length):
        return TypeVerdict(widening=True)
    return TypeVerdict(
        reason=f"shorter text: values longer than {new.length} characters would be cut",
        advice=f"keep the length at {old.length} or more",
    )


def _decimal(old: TypeKind, new: TypeKind) -> TypeVerdict:
    if new.precision is None:
        return TypeVerdict(widening=True)
    old_whole, new_whole = _whole_digits(old), _whole_digits(new)
    old_scale, new_scale = old.scale or 0, new.scale or 0
    if new_scale < old_scale:
        return TypeVerdict(
            reason=f"fewer digits after the point ({old_scale} -> {new_scale}) would round values",
            advice=f"keep the scale at {old_scale} or more",
        )
    if old_whole is None:
        return TypeVerdict(
            reason=f"{new} bounds the digits before the point; stored values may have more",
            advice="keep the decimal without a precision",
        )
    if new_whole is not None and new_whole < old_whole:
        return TypeVerdict(
            reason=f"{new} holds {new_whole} digits before the point; {old} values need "
            f"{old_whole}",
            advice=f"make the precision at least {new_scale + old_whole} with scale {new_scale}",
        )
    return TypeVerdict(widening=True)


def judge_type_change(old_type: TypeEngine[Any], new_type: TypeEngine[Any]) -> TypeVerdict:
    """Is ``old_type`` → ``new_type`` the same, a widening, or lossy (and why)?"""
    old, new = kind_of(old_type), kind_of(new_type)
    if old == new or (old.kind == new.kind and old.kind not in ("text", "decimal")):
        return TypeVerdict(same=True)
    if old.kind == new.kind == "text":
        return _text(old, new)
    if old.kind in ("integer", "long", "decimal") and new.kind == "decimal":
        return _decimal(old, new)
    if (old.kind, new.kind) in (("integer", "long"), ("date", "datetime")):
        return TypeVerdict(widening=True)
    if old.kind in ("long", "decimal") and new.kind in ("integer", "long"):
        loss = "the fraction would be dropped" if old.kind == "decimal" else "large values"
        if old.kind == "long":
            loss += " would not fit"
        return TypeVerdict(
            reason=f"{old} to {new}: {loss}", advice=f"keep the type {old}, or {NEW_ATTRIBUTE}"
        )
    if (old.kind, new.kind) == ("datetime", "date"):
        return TypeVerdict(
            reason="datetime to date: the time of day would be dropped",
            advice=f"keep the type datetime, or {NEW_ATTRIBUTE}",
        )
    return TypeVerdict(
        reason=f"{old} values cannot all be turned into {new} values",
        advice=f"keep the type {old}, or {NEW_ATTRIBUTE}",
    )
