"""Engines for stage databases, with DDL that is really transactional, and the schema lock.

SQLite's Python driver commits on its own before DDL, so a failed script could leave a
half-migrated schema. Here the driver's transaction handling is turned off and every
transaction starts with ``BEGIN IMMEDIATE``: DDL and data change commit or roll back
together, and the write lock makes one schema runner at a time per database file. A
connection given ``READ_ONLY`` execution options starts a plain ``BEGIN`` instead (a read
that does not wait for writers).

On PostgreSQL DDL is transactional already; ``lock_schema`` takes a transaction-scoped
advisory lock with one fixed key (advisory locks are per database, so the key stands for
"the schema of this database"): a second runner waits until the first one's transaction
ends. ``postgresql://`` URLs use psycopg 3.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from oneclick.errors import TransientError

READ_ONLY = {"oneclick_read_only": True}
SCHEMA_LOCK_KEY = int.from_bytes(hashlib.sha256(b"oneclick_schema").digest()[:8], signed=True)
LOCK_TIMEOUT = "300s"


def database_url(url: str) -> str:
    """``url`` with PostgreSQL's plain schemes mapped to the psycopg 3 driver."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url.removeprefix(plain)
    return url


def make_engine(url: str) -> Engine:
    """The engine for ``url``: one per URL per process, without a pool, so every use opens
    its own connection and nothing stays open between runs, while the dialect and the
    compiled statements (reflection queries are costly to compile) are kept."""
    url = database_url(url)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return _engine(url)


@contextmanager
def read_only(url: str) -> Iterator[Connection]:
    """A connection to the database at ``url`` that only reads; an unreachable database is a
    ``TransientError``."""
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(**READ_ONLY) as connection:
            yield connection
    except OperationalError as exc:
        raise TransientError(f"cannot reach the stage database: {exc.orig}") from exc
    finally:
        engine.dispose()


@functools.lru_cache(maxsize=64)
def _engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, poolclass=NullPool)
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get("oneclick_read_only")
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def lock_schema(connection: Connection) -> None:
    """Wait (up to ``LOCK_TIMEOUT``) until this transaction is the database's only schema
    runner. On SQLite the transaction's ``BEGIN IMMEDIATE`` already holds the write lock."""
    if connection.dialect.name != "postgresql":
        return
    connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
