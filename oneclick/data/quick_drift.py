"""Drift at a glance: whether a SQLite stage database surely did not change since oneclick's
last apply, read with the standard library alone (no SQLAlchemy, no pydantic).

Every apply on SQLite stamps its record (``oneclick_schema.live_schema``, key
``SCHEMA_VERSION_KEY``) with SQLite's ``PRAGMA schema_version`` as the apply left it, after
all of its DDL. SQLite bumps that counter on every change of the schema (a table, a column,
an index made or dropped), and not on writes of rows. So when the database's counter still
equals the stamp, nothing was changed outside oneclick and ``detect_drift`` would find
nothing; there is no need to reflect the schema.

``drift_at_a_glance(url)`` answers:

* ``"unchanged"``: a SQLite database whose schema version is the one its last apply recorded
  (``detect_drift`` would report no change);
* ``"unrecorded"``: a SQLite file that does not exist (in a directory that does), or that has
  no record of an apply with a schema description (``detect_drift`` would say
  ``known=False``);
* ``None``: it cannot tell (not a SQLite URL, an unusual URL, a schema changed since the
  apply, a record without the stamp, a missing directory, a file that cannot be read or is
  locked...): ask ``detect_drift``.

It never creates nor changes anything: the file is opened read-only (``mode=ro``).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Literal

SCHEMA_VERSION_KEY = "sqlite_schema_version"
"""The key of a recorded schema description holding SQLite's schema version after the apply."""

# As in oneclick.data.fingerprint (not imported from there: it imports SQLAlchemy).
RECORD_TABLE = "oneclick_schema"
RECORD_COLUMN = "live_schema"
_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")
_BUSY_SECONDS = 0.2  # a commit in progress passes in less; a longer lock means: ask the slow way

Glance = Literal["unchanged", "unrecorded"]


def sqlite_path(url: str) -> Path | None:
    """The file of a plain SQLite URL (``sqlite:///PATH``, as SQLAlchemy reads it: relative to
    the working directory unless absolute), or None for any other URL, an in-memory database
    or a URL with options (``?...``), which only the full check reads."""
    for prefix in _PREFIXES:
        if url.startswith(prefix):
            path = url.removeprefix(prefix)
            break
    else:
        return None
    if not path or path == ":memory:" or "?" in path or path.startswith("file:"):
        return None
    return Path(path).absolute()


def _glance(connection: sqlite3.Connection) -> Glance | None:
    columns = {row[1] for row in connection.execute(f"PRAGMA table_info({RECORD_TABLE})")}
    if RECORD_COLUMN not in columns:  # no record, or an older one without a schema description
        return "unrecorded"
    row = connection.execute(f"SELECT {RECORD_COLUMN} FROM {RECORD_TABLE} WHERE id = 1").fetchone()
    if row is None or not row[0]:
        return "unrecorded"
    recorded = json.loads(row[0])
    if recorded is None:
        return "unrecorded"
    if not isinstance(recorded, dict):
        return None
    stamp = recorded.get(SCHEMA_VERSION_KEY)
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        return None
    (version,) = connection.execute("PRAGMA schema_version").fetchone()
    return "unchanged" if version == stamp else None


def drift_at_a_glance(url: str) -> Glance | None:
    """``"unchanged"``, ``"unrecorded"`` or None (ask ``detect_drift``) for the stage database
    at ``url``; see the module's description. Changes nothing, creates nothing."""
    path = sqlite_path(url)
    if path is None:
        return None
    if not path.parent.is_dir():  # the full check says what is wrong (or makes it)
        return None
    try:  # read-only: a missing file is not created
        connection = sqlite3.connect(
            f"{path.as_uri()}?mode=ro", uri=True, timeout=_BUSY_SECONDS, isolation_level=None
        )
    except sqlite3.Error:
        return None if path.exists() else "unrecorded"
    try:
        connection.execute("BEGIN")  # the record and the version, read from one snapshot
        return _glance(connection)
    except (sqlite3.Error, ValueError):  # unreadable, locked, not a database, bad JSON
        return None
    finally:
        connection.close()
