"""What each attribute of an app model means for storage and validation.

``describe_attribute`` resolves an attribute's type into a kind (a basic type, ``reference``
to another entity of the app, or ``static`` for a library's static entity), fills in the
defaults the model leaves open (text length 50, decimal precision 18 and scale 4, email 250
and phone 20 characters, static keys 64) and types the default value. The schema, the
server spec and the client model are all derived from this one description.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from oneclick.compiler.names import column_name
from oneclick.errors import BuildError
from oneclick.model.types import AppModel, Attribute, Entity

TEXT_LENGTH = 50
EMAIL_LENGTH = 250
PHONE_LENGTH = 20
STATIC_KEY_LENGTH = 64
DECIMAL_PRECISION = 18
DECIMAL_SCALE = 4
STRING_KINDS = ("text", "email", "phone", "static")


@dataclass(frozen=True)
class AttributeInfo:
    """One attribute, resolved: its column, kind, limits and typed default."""

    name: str
    column: str
    kind: str
    mandatory: bool
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    entity: str | None = None
    library: str | None = None
    static: str | None = None
    default: Any = None

    def json_default(self) -> Any:
        """The default as JSON would carry it (decimals and dates as strings)."""
        if isinstance(self.default, Decimal):
            return str(self.default)
        if isinstance(self.default, dt.date):
            return self.default.isoformat()
        return self.default


def describe_attribute(model: AppModel, entity: Entity, attribute: Attribute) -> AttributeInfo:
    """Resolve ``attribute`` of ``entity``; a BuildError names it when its type is unknown."""
    where = f"{entity.name}.{attribute.name}"
    kind, extra = _kind(model, attribute, where)
    info = AttributeInfo(
        name=attribute.name,
        column=column_name(attribute.name),
        kind=kind,
        mandatory=attribute.mandatory,
        **extra,
    )
    if attribute.default is None:
        return info
    return replace(info, default=typed_value(kind, attribute.default, where))


def _kind(model: AppModel, attribute: Attribute, where: str) -> tuple[str, dict[str, Any]]:
    kind = attribute.type
    if kind == "text":
        return kind, {"length": attribute.length or TEXT_LENGTH}
    if kind == "email":
        return kind, {"length": EMAIL_LENGTH}
    if kind == "phone":
        return kind, {"length": PHONE_LENGTH}
    if kind == "decimal":
        precision = attribute.precision or DECIMAL_PRECISION
        scale = attribute.scale if attribute.scale is not None else min(DECIMAL_SCALE, precision)
        return kind, {"precision": precision, "scale": scale}
    if attribute.is_basic:
        return kind, {}
    ref = attribute.library_ref
    if ref is not None:
        return "static", {"length": STATIC_KEY_LENGTH, "library": ref[0], "static": ref[1]}
    if model.entity(kind) is not None:
        return "reference", {"entity": kind}
    raise BuildError(
        f"{where}: expected a basic type, an entity of the app or <library>.<StaticEntity> "
        f"as the type, found {kind!r}; fix the model (validate it before compiling)"
    )


def typed_value(kind: str, value: Any, where: str) -> Any:
    """``value`` from the model as the Python value the column holds."""
    try:
        return _convert(kind, value)
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise BuildError(
            f"{where}: the default {value!r} is not a valid {kind} value; "
            "change the default in the model"
        ) from exc


def _convert(kind: str, value: Any) -> Any:
    if kind in STRING_KINDS:
        return str(value)
    if kind in ("integer", "long", "reference"):
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(kind)
        return int(value)
    if kind == "decimal":
        if isinstance(value, bool):
            raise TypeError(kind)
        number = Decimal(str(value))
        if not number.is_finite():
            raise ValueError(kind)
        return number
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise ValueError(kind)
    if kind == "date":
        return dt.date.fromisoformat(str(value))
    if kind == "datetime":
        return dt.datetime.fromisoformat(str(value))
    raise ValueError(kind)
