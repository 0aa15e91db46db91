"""Does the live database schema fit this build's tables? Compatibility, not equality.

``find_misfits(tables, inspector)`` lists what the live schema lacks for ``tables`` (the
generated ``models.TABLES``), in table and column order: a missing table ("the database
has no table expense"), a missing column, the ``id`` primary key included ("table expense
has no column amount"), or a column whose live type cannot hold every value of the
declared type ("column expense.title is VARCHAR(100), this build writes text(200)"). An
empty list means the schema fits. Extra live tables and columns never matter (a later
release added them, or they are retired); nullability, defaults, keys and indexes are not
checked. ``summarize`` turns the list into one short reason (the first few problems).

Both types are read as kinds: text(length), integer, long, decimal(precision, scale),
boolean, date, datetime; anything else (a float, a small integer, an enumeration, a type
SQLAlchemy does not know) is a kind of its own that holds no declared type. A live kind
*holds* a declared one when declared → live is the same type or a widening, as the data
tool widens (``oneclick/data/widening.py``):

- text(n) by text(m) with m >= n, or by unbounded text;
- integer by long;
- integer or long by a decimal with room for every whole number (10 or 19 digits before
  the point);
- decimal(p, s) by a decimal with at least as many digits before and after the point;
- integer, long and decimal by a decimal without a precision;
- date by datetime;
- boolean, date, datetime, integer and long each by its own kind.

This module is copied into every build: it imports only the standard library and
SQLAlchemy.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.reflection import Inspector
from sqlalchemy.exc import SAWarning
from sqlalchemy.types import TypeEngine

WHOLE_DIGITS = {"integer": 10, "long": 19}
EXACT_KINDS = ("boolean", "date", "datetime", "integer", "long")  # each held by its own kind
SHOWN_PROBLEMS = 3

# A live column of a type SQLAlchemy does not know is reflected as NullType (with this
# warning); it is reported as a misfit, so the warning is noise for this server.
warnings.filterwarnings("ignore", message=r"Did not recognize type", category=SAWarning)


@dataclass(frozen=True)
class Kind:
    """A column type as the model sees it (``name`` is one of the kinds listed above)."""

    name: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None

    def __str__(self) -> str:
        if self.name == "text":
            return f"text({self.length})" if self.length else "text(unbounded)"
        if self.name == "decimal" and self.precision is not None:
            return f"decimal({self.precision}, {self.scale or 0})"
        return self.name


def kind_of(type_: TypeEngine[Any]) -> Kind:
    """The kind a declared or reflected SQL type stands for."""
    if isinstance(type_, sqltypes.Boolean):
        return Kind("boolean")
    if isinstance(type_, sqltypes.DateTime):
        return Kind("datetime")
    if isinstance(type_, sqltypes.Date):
        return Kind("date")
    if isinstance(type_, sqltypes.BigInteger):
        return Kind("long")
    if isinstance(type_, sqltypes.SmallInteger):
        return Kind("short")  # fewer digits than an integer: holds none of the model's kinds
    if isinstance(type_, sqltypes.Integer):
        return Kind("integer")
    if isinstance(type_, sqltypes.Float):
        return Kind("float")
    if isinstance(type_, sqltypes.Numeric):
        return Kind("decimal", precision=type_.precision, scale=type_.scale)
    if isinstance(type_, sqltypes.Enum):
        return Kind("enumeration")
    if isinstance(type_, sqltypes.String):
        return Kind("text", length=type_.length)
    return Kind(f"other {type(type_).__name__}")


def _whole_digits(kind: Kind) -> int | None:
    """Digits before the point; None when unbounded (or not a number)."""
    if kind.name in WHOLE_DIGITS:
        return WHOLE_DIGITS[kind.name]
    if kind.name == "decimal" and kind.precision is not None:
        return kind.precision - (kind.scale or 0)
    return None


def _decimal_holds(live: Kind, declared: Kind) -> bool:
    if declared.name not in ("integer", "long", "decimal"):
        return False
    if live.precision is None:
        return True
    if (live.scale or 0) < (declared.scale or 0):
        return False
    needed, room = _whole_digits(declared), _whole_digits(live)
    return needed is not None and room is not None and room >= needed


def holds(live: Kind, declared: Kind) -> bool:
    """Can a live column of kind ``live`` hold every value of kind ``declared``?"""
    if live.name == "text":
        return declared.name == "text" and (
            live.length is None or (declared.length is not None and live.length >= declared.length)
        )
    if live.name == "decimal":
        return _decimal_holds(live, declared)
    if (declared.name, live.name) in (("integer", "long"), ("date", "datetime")):
        return True
    return live.name == declared.name and live.name in EXACT_KINDS


def _sql_text(type_: TypeEngine[Any], dialect: Dialect) -> str:
    """The live type as the database spells it; a type it cannot render, by its name."""
    try:
        return str(type_.compile(dialect=dialect))
    except Exception:  # NullType: a type SQLAlchemy did not recognize
        return f"of a type this server does not know ({type(type_).__name__})"


def _table_misfits(table: Table, live: dict[str, Any], dialect: Dialect) -> list[str]:
    problems = []
    for column in table.columns:
        found = live.get(column.name)
        if found is None:
            problems.append(f"table {table.name} has no column {column.name}")
            continue
        declared = kind_of(column.type)
        if not holds(kind_of(found["type"]), declared):
            problems.append(
                f"column {table.name}.{column.name} is {_sql_text(found['type'], dialect)}, "
                f"this build writes {declared}"
            )
    return problems


def find_misfits(tables: Iterable[Table], inspector: Inspector) -> list[str]:
    """What the live schema lacks for ``tables``; empty when it fits (one reflection)."""
    wanted = list(tables)
    reflected = inspector.get_multi_columns(filter_names=[t.name for t in wanted])
    live = {name: {c["name"]: c for c in columns} for (_schema, name), columns in reflected.items()}
    problems = []
    for table in wanted:
        if table.name not in live:
            problems.append(f"the database has no table {table.name}")
        else:
            problems += _table_misfits(table, live[table.name], inspector.dialect)
    return problems


def summarize(problems: list[str] | tuple[str, ...]) -> str:
    """The first few problems in one line, and how many more there are."""
    shown = "; ".join(problems[:SHOWN_PROBLEMS])
    more = len(problems) - SHOWN_PROBLEMS
    return f"{shown}; and {more} more" if more > 0 else shown
