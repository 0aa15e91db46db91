"""The schema fingerprint a stage database records, and that a running app checks.

Table ``oneclick_schema`` holds one row (id 1): the fingerprint of the schema last applied,
the app, the release and when. The compiled app's ``/readyz`` compares it with its own.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Integer, MetaData, String, Table, inspect, select
from sqlalchemy.engine import Connection

TABLE_NAME = "oneclick_schema"

_metadata = MetaData()
schema_table = Table(
    TABLE_NAME,
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("fingerprint", String(80), nullable=False),
    Column("app", String(80), nullable=False),
    Column("release", String(120), nullable=False),
    Column("applied_at", String(40), nullable=False),
)


def read_fingerprint(connection: Connection) -> str | None:
    if not inspect(connection).has_table(TABLE_NAME):
        return None
    return connection.execute(
        select(schema_table.c.fingerprint).where(schema_table.c.id == 1)
    ).scalar_one_or_none()


def write_fingerprint(connection: Connection, fingerprint: str, app: str, release: str) -> None:
    schema_table.create(connection, checkfirst=True)
    values = {
        "fingerprint": fingerprint,
        "app": app,
        "release": release,
        "applied_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    updated = connection.execute(
        schema_table.update().where(schema_table.c.id == 1).values(**values)
    ).rowcount
    if not updated:
        connection.execute(schema_table.insert().values(id=1, **values))
