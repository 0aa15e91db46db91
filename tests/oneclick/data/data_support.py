"""Helpers for the data tests: models, releases, rows, and before/after comparisons.

``app(*entities)`` builds an ``AppModel`` from plain dicts; ``release`` and ``plan`` call the
data tool the way the flows do (``app_metadata`` + ``schema_fingerprint``). ``fill`` puts rows
with values of every attribute's type into every table of a model; ``dump`` reads every row
of every table in the database (retired ones too) through reflection; ``assert_kept``
checks that every value of a ``dump`` taken before a change is still there after it,
following renames and allowing widened types (5 → 5.000, a date → that date at midnight).
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, MetaData, Table, create_engine, insert, select, text
from sqlalchemy.pool import NullPool

from oneclick.compiler.schema import app_metadata, schema_fingerprint
from oneclick.data import SchemaPlan, SchemaResult, apply_schema, plan_schema
from oneclick.data.snapshot import RESERVED_PREFIXES, describe_live_schema
from oneclick.model.types import AppModel

Rows = dict[str, dict[int, dict[str, Any]]]  # table → id → column → value


@functools.lru_cache(maxsize=256)
def engine_for(url: str) -> Engine:
    """A plain engine (not the data tool's), kept per URL, opening a connection per use."""
    return create_engine(url, poolclass=NullPool)


def app(*entities: dict[str, Any], name: str = "shop") -> AppModel:
    return AppModel.model_validate({"app": name, "entities": list(entities)})


def entity(name: str, *attributes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "attributes": list(attributes), **extra}


def attr(name: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


def release(url: str, model: AppModel, version: str = "1.0.0") -> SchemaResult:
    return apply_schema(
        url, app_metadata(model), schema_fingerprint(model), app=model.app, release=version
    )


def plan(url: str, model: AppModel) -> SchemaPlan:
    return plan_schema(url, app_metadata(model), schema_fingerprint(model))


def full_plan(url: str, model: AppModel) -> SchemaPlan:
    """A plan that compares the whole schema (no fingerprint can match)."""
    return plan_schema(url, app_metadata(model), "sha256:not-a-recorded-fingerprint")


def execute(url: str, sql: str, **params: Any) -> None:
    engine = engine_for(url)
    with engine.begin() as connection:
        connection.execute(text(sql), params)


def scalar(url: str, sql: str) -> Any:
    engine = engine_for(url)
    with engine.connect() as connection:
        value = connection.execute(text(sql)).scalar()
    return value


def live_schema(url: str) -> dict[str, Any]:
    engine = engine_for(url)
    with engine.connect() as connection:
        described = describe_live_schema(connection)
    return described


def _value(rng: random.Random, column: Any, ids: Mapping[str, list[int]]) -> Any:
    """A value that fits ``column`` (its type, length, precision; references: an id)."""
    for fk in column.foreign_keys:
        target = ids.get(fk.column.table.name) or [None]
        return rng.choice(target)
    python = column.type.python_type
    if python is bool:
        return rng.random() < 0.5
    if python is int:
        return rng.randint(-(10**6), 10**6)
    if python is Decimal:
        scale = column.type.scale or 0
        whole = min(6, (column.type.precision or 10) - scale)
        units = rng.randint(1 - 10 ** (whole + scale), 10 ** (whole + scale) - 1)
        return Decimal(units).scaleb(-scale)
    if python is dt.datetime:
        return dt.datetime(2020, 1, 1, 8, 30) + dt.timedelta(minutes=rng.randint(0, 10**6))
    if python is dt.date:
        return dt.date(2020, 1, 1) + dt.timedelta(days=rng.randint(0, 3000))
    length = column.type.length or 20
    word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz' éü") for _ in range(min(length, 12)))
    return word[: rng.randint(1, min(length, 12))]


def fill(url: str, model: AppModel, rows: int = 3, seed: int = 0) -> None:
    """Insert ``rows`` rows into every table of ``model``, with a value in every column
    (references point to existing rows when their table has any)."""
    rng = random.Random(seed)
    metadata = app_metadata(model)
    engine = engine_for(url)
    with engine.begin() as connection:
        ids: dict[str, list[int]] = {}
        for table in metadata.sorted_tables:
            found = connection.execute(select(table.c.id)).scalars().all()
            ids[table.name] = list(found)
        for table in metadata.sorted_tables:
            for _ in range(rows):
                values = {c.name: _value(rng, c, ids) for c in table.columns if c.name != "id"}
                new_id = connection.execute(insert(table).values(**values)).inserted_primary_key
                ids[table.name].append(int(new_id[0]))


def dump(url: str) -> Rows:
    """Every row of every table (oneclick's own excepted), by table and id."""
    engine = engine_for(url)
    metadata = MetaData()
    metadata.reflect(engine)
    found: Rows = {}
    with engine.connect() as connection:
        for name, table in metadata.tables.items():
            if name.startswith(RESERVED_PREFIXES):
                continue
            found[name] = _rows(connection, table)
    return found


def _rows(connection: Any, table: Table) -> dict[int, dict[str, Any]]:
    return {row["id"]: dict(row) for row in connection.execute(select(table)).mappings().all()}


def comparable(value: Any) -> Any:
    """The value as a widened column would hold it."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)).normalize()
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return value


def assert_kept(
    before: Rows,
    after: Rows,
    tables: Mapping[str, str] | None = None,
    columns: Mapping[tuple[str, str], str] | None = None,
) -> int:
    """Every value in ``before`` is in ``after``: table ``t`` under ``tables.get(t, t)``,
    column ``c`` of ``t`` under ``columns.get((t, c), c)``. Returns the values compared."""
    tables, columns = tables or {}, columns or {}
    compared = 0
    for table, rows in before.items():
        moved = tables.get(table, table)
        assert moved in after, f"table {table} (now {moved}) is gone"
        for row_id, row in rows.items():
            assert row_id in after[moved], f"row {row_id} of {table} is gone"
            new_row = after[moved][row_id]
            for column, value in row.items():
                name = columns.get((table, column), column)
                assert name in new_row, f"column {table}.{column} (now {moved}.{name}) is gone"
                assert comparable(new_row[name]) == comparable(value), (
                    f"{table}.{column} of row {row_id}: {value!r} became {new_row[name]!r}"
                )
                compared += 1
    return compared
