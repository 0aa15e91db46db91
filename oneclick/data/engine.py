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

A database that cannot be used is named in the error (its path, or its URL without the
password) with what to do: ``database_error`` tells the faults that may pass (a busy or
unreachable server: ``TransientError``, retried) from those that cannot (not a database, a
directory, no permission, no such directory: ``StageError``, never retried). A SQLite file's
directory is created only under ``ONECLICK_HOME``; anywhere else it must exist.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from oneclick.errors import StageError, TransientError
from oneclick.home import Home

READ_ONLY = {"oneclick_read_only": True}
SCHEMA_LOCK_KEY = int.from_bytes(hashlib.sha256(b"oneclick_schema").digest()[:8], signed=True)
LOCK_TIMEOUT = "300s"
TRANSIENT_MARKS = (
    "locked",
    "could not connect",
    "connection refused",
    "lock timeout",
    "server closed the connection",
    "the database system is starting up",
)


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
        _check_sqlite_file(Path(url.removeprefix("sqlite:///")))
    return _engine(url)


def _check_sqlite_file(path: Path) -> None:
    if path.is_dir():
        raise StageError(
            f"the stage database {path} is a directory, not a SQLite file: point the stage's "
            "database_url at a file (for example .../{app}.db)"
        )
    if path.parent.is_dir():
        return
    if path.resolve().is_relative_to(Home.from_env().root):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StageError(
                f"cannot create the directory of the stage database {path} ({exc.strerror}): "
                "fix the stage's database_url or the oneclick home"
            ) from exc
        return
    raise StageError(
        f"the directory of the stage database {path} does not exist: create {path.parent} "
        "(outside ONECLICK_HOME nothing is created on its own) or fix the stage's database_url"
    )


def shown(url: str) -> str:
    """``url`` as it may be shown: a SQLite file's path, a server URL without its password."""
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///")
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "the stage database (its URL is not valid)"


def access_error(url: str, exc: DBAPIError) -> StageError | TransientError | None:
    """What a driver's error means when it is about reaching or opening the database at
    ``url`` (named, with what to do); None when it is about a statement instead."""
    if type(exc) not in (OperationalError, DatabaseError):
        return None
    cause = (str(exc.orig).strip().splitlines() or [repr(exc.orig)])[0]
    where = shown(url)
    cause = cause.replace(url, where)
    if any(mark in cause.lower() for mark in TRANSIENT_MARKS):
        return TransientError(f"the stage database {where} is busy or unreachable: {cause}")
    if "not a database" in cause or "malformed" in cause:
        return StageError(
            f"the stage database {where} is not a SQLite database ({cause}): move the file "
            "aside or point the stage's database_url at another file"
        )
    if any(mark in cause.lower() for mark in ("unable to open", "readonly", "permission")):
        return StageError(
            f"cannot open the stage database {where} ({cause}): check that it is a file this "
            "user may read and write, in a directory it may write to"
        )
    return None


@contextmanager
def read_only(url: str) -> Iterator[Connection]:
    """A connection to the database at ``url`` that only reads; an unreachable database is a
    ``TransientError``, one that cannot be used a ``StageError``."""
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(**READ_ONLY) as connection:
            yield connection
    except (OperationalError, DatabaseError) as exc:
        known = access_error(url, exc)
        if known is not None:
            raise known from exc
        cause = str(exc.orig).replace(url, shown(url))
        raise StageError(f"the stage database {shown(url)} cannot be read: {cause}") from exc
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
