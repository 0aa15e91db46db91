"""The schema record a stage database keeps, and that a running app checks.

Table ``oneclick_schema`` holds one row (id 1): the fingerprint of the schema last applied,
the app, the release, when, and ``live_schema``: the description of the database's schema
right after that apply (JSON, see ``oneclick.data.snapshot``), against which drift is found.
The compiled app's ``/readyz`` reads only ``fingerprint`` (``WHERE id = 1``). Older tables
without ``live_schema`` are extended in place on the next apply; the column is nullable.

On SQLite the description also holds ``sqlite_schema_version`` (``SCHEMA_VERSION_KEY``):
SQLite's ``PRAGMA schema_version`` once the apply's DDL is all done (this table's own
creation or extension included), read in the apply's transaction. While the database still
has that version its schema is the one described, which ``oneclick.data.quick_drift`` tells
without reflecting anything. Records without it are still read; they just never take that
shortcut.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, inspect, select, text
from sqlalchemy.engine import Connection

from oneclick.data.quick_drift import SCHEMA_VERSION_KEY

TABLE_NAME = "oneclick_schema"
SNAPSHOT_COLUMN = "live_schema"

_metadata = MetaData()
schema_table = Table(
    TABLE_NAME,
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("fingerprint", String(80), nullable=False),
    Column("app", String(80), nullable=False),
    Column("release", String(120), nullable=False),
    Column("applied_at", String(40), nullable=False),
    Column(SNAPSHOT_COLUMN, Text, nullable=True),
)


class SchemaRecord(BaseModel):
    """What the database says was applied last."""

    model_config = ConfigDict(frozen=True)

    fingerprint: str
    app: str
    release: str
    applied_at: str
    live_schema: dict[str, Any] | None = None


def read_fingerprint(connection: Connection) -> str | None:
    """The recorded fingerprint, or None when the database has no record yet."""
    if not inspect(connection).has_table(TABLE_NAME):
        return None
    return connection.execute(
        select(schema_table.c.fingerprint).where(schema_table.c.id == 1)
    ).scalar_one_or_none()


def _has_snapshot_column(connection: Connection) -> bool:
    return any(c["name"] == SNAPSHOT_COLUMN for c in inspect(connection).get_columns(TABLE_NAME))


def read_record(connection: Connection) -> SchemaRecord | None:
    """The whole record (with the schema description when it has one), or None."""
    if not inspect(connection).has_table(TABLE_NAME):
        return None
    columns = [c for c in schema_table.c if c.name not in ("id", SNAPSHOT_COLUMN)]
    if _has_snapshot_column(connection):
        columns.append(schema_table.c[SNAPSHOT_COLUMN])
    row = connection.execute(select(*columns).where(schema_table.c.id == 1)).mappings().first()
    if row is None:
        return None
    values = dict(row)
    raw = values.pop(SNAPSHOT_COLUMN, None)
    return SchemaRecord(**values, live_schema=json.loads(raw) if raw else None)


def write_fingerprint(
    connection: Connection,
    fingerprint: str,
    app: str,
    release: str,
    live_schema: dict[str, Any] | None = None,
) -> None:
    """Record an apply; creates the table, or adds ``live_schema`` to an older one. On
    SQLite the description is stamped with the schema version all that DDL left."""
    if inspect(connection).has_table(TABLE_NAME):
        if not _has_snapshot_column(connection):
            connection.execute(text(f"ALTER TABLE {TABLE_NAME} ADD COLUMN {SNAPSHOT_COLUMN} TEXT"))
    else:
        schema_table.create(connection)
    if live_schema and connection.dialect.name == "sqlite":  # no DDL after this point
        version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
        live_schema = {**live_schema, SCHEMA_VERSION_KEY: int(version)}
    values = {
        "fingerprint": fingerprint,
        "app": app,
        "release": release,
        "applied_at": datetime.now(UTC).isoformat(timespec="seconds"),
        SNAPSHOT_COLUMN: json.dumps(live_schema, sort_keys=True) if live_schema else None,
    }
    updated = connection.execute(
        schema_table.update().where(schema_table.c.id == 1).values(**values)
    ).rowcount
    if not updated:
        connection.execute(schema_table.insert().values(id=1, **values))
