"""A plain description of a database's live schema, to record after an apply and compare later.

``describe_live_schema(connection)`` reflects every table except oneclick's own (names
starting ``oneclick_`` or ``alembic``) into JSON-ready data::

    {"tables": {name: {"columns": {name: {"type", "nullable", "default"}},
                       "primary_key": [columns], "foreign_keys": ["a,b -> t(x,y)"],
                       "indexes": {name: {"columns", "unique"}}, "unique": ["a,b"]}}}

The record of an apply adds ``"model": {table: [columns]}``, the tables and columns the
applied model had (``with_model``), so that later plans tell a column retired now from one
retired long ago (``retired_before``); on SQLite, ``"sqlite_schema_version"`` too, the
database's schema version once the apply was done (``oneclick.data.fingerprint``). Comparisons
read ``"tables"`` (and ``"model"``) only.

Types are rendered by the database's own dialect, so two descriptions of one database compare
equal exactly when nothing changed. It is taken after an apply, so retired columns and
tables are part of it. Reflection uses SQLAlchemy's multi-table calls (a few catalog queries
on PostgreSQL for the whole schema).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeEngine

RESERVED_PREFIXES = ("oneclick_", "alembic")

Snapshot = dict[str, Any]


def app_table_names(connection: Connection) -> list[str]:
    """The database's tables, without oneclick's own."""
    names = inspect(connection).get_table_names()
    return sorted(n for n in names if not n.startswith(RESERVED_PREFIXES))


def _type_text(connection: Connection, type_: TypeEngine[Any]) -> str:
    try:
        return str(type_.compile(dialect=connection.dialect))
    except Exception:  # a type the dialect cannot render (SQLite's NullType): its name
        return repr(type_)


def _keyed(multi: dict[tuple[str | None, str], Any]) -> dict[str, Any]:
    return {table: value for (_schema, table), value in multi.items()}


def describe_live_schema(connection: Connection) -> Snapshot:
    names = app_table_names(connection)
    if not names:
        return {"tables": {}}
    inspector = inspect(connection)
    columns = _keyed(inspector.get_multi_columns(filter_names=names))
    primary = _keyed(inspector.get_multi_pk_constraint(filter_names=names))
    foreign = _keyed(inspector.get_multi_foreign_keys(filter_names=names))
    indexes = _keyed(inspector.get_multi_indexes(filter_names=names))
    uniques = _keyed(inspector.get_multi_unique_constraints(filter_names=names))
    tables: dict[str, Any] = {}
    for name in names:
        tables[name] = {
            "columns": {
                c["name"]: {
                    "type": _type_text(connection, c["type"]),
                    "nullable": bool(c["nullable"]),
                    "default": None if c.get("default") is None else str(c["default"]),
                }
                for c in columns.get(name, [])
            },
            "primary_key": list((primary.get(name) or {}).get("constrained_columns") or []),
            "foreign_keys": sorted(
                f"{','.join(fk['constrained_columns'])} -> "
                f"{fk['referred_table']}({','.join(fk['referred_columns'])})"
                for fk in foreign.get(name, [])
            ),
            "indexes": {
                str(i["name"]): {
                    "columns": [str(c) for c in i["column_names"]],
                    "unique": bool(i["unique"]),
                }
                for i in indexes.get(name, [])
                if not i.get("duplicates_constraint")
            },
            "unique": sorted(",".join(u["column_names"]) for u in uniques.get(name, [])),
        }
    return {"tables": tables}


def with_model(snapshot: Snapshot, metadata: MetaData) -> Snapshot:
    """``snapshot`` plus the tables and columns of the model just applied."""
    model = {t.name: sorted(c.name for c in t.columns) for t in metadata.tables.values()}
    return {**snapshot, "model": model}


def retired_before(recorded: Snapshot | None) -> set[tuple[str, str | None]]:
    """(table, None) for tables, (table, column) for columns, that the recorded apply had
    already retired: in the database then, not in the model then."""
    if recorded is None or "model" not in recorded:
        return set()
    model: dict[str, list[str]] = recorded["model"]
    retired: set[tuple[str, str | None]] = set()
    for table, spec in recorded["tables"].items():
        if table not in model:
            retired.add((table, None))
        else:
            retired |= {(table, c) for c in spec["columns"] if c not in model[table]}
    return retired
