"""``drift_at_a_glance``: what ``oneclick status`` can tell of a SQLite stage database without
SQLAlchemy, checked against ``detect_drift`` on databases left by the real apply."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from oneclick.data import detect_drift
from oneclick.data.fingerprint import SNAPSHOT_COLUMN, TABLE_NAME
from oneclick.data.quick_drift import (
    RECORD_COLUMN,
    RECORD_TABLE,
    SCHEMA_VERSION_KEY,
    drift_at_a_glance,
    sqlite_path,
)
from tests.oneclick.data.data_support import app, attr, entity, release

MODEL = app(
    entity(
        "Employee",
        attr("Name", "text", length=100, mandatory=True),
        attr("Email", "email"),
        indexes=[{"attributes": ["Email"]}],
    )
)
BIGGER = app(
    entity(
        "Employee",
        attr("Name", "text", length=100, mandatory=True),
        attr("Email", "email"),
        attr("Phone", "text", length=30),
        indexes=[{"attributes": ["Email"]}],
    ),
    entity("Team", attr("Title", "text", length=50)),
)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'stage.db'}"


def _path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


@contextmanager
def plain(url: str) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection (outside oneclick), committing on success."""
    with closing(sqlite3.connect(_path(url))) as connection, connection:
        yield connection


def _sql(url: str, *statements: str) -> None:
    with plain(url) as connection:
        for statement in statements:
            connection.execute(statement)


def _recorded(url: str) -> dict[str, object]:
    with plain(url) as connection:
        (raw,) = connection.execute(
            "select live_schema from oneclick_schema where id = 1"
        ).fetchone()
    found: dict[str, object] = json.loads(raw)
    return found


def test_the_names_match_the_record_the_apply_writes() -> None:
    assert (RECORD_TABLE, RECORD_COLUMN) == (TABLE_NAME, SNAPSHOT_COLUMN)


def test_after_an_apply_the_database_is_unchanged_on_sqlite_only(db_url: str) -> None:
    release(db_url, MODEL, "1")
    if db_url.startswith("sqlite"):
        assert drift_at_a_glance(db_url) == "unchanged"
        assert isinstance(_recorded(db_url)[SCHEMA_VERSION_KEY], int)
    else:
        assert drift_at_a_glance(db_url) is None
    found = detect_drift(db_url)
    assert found.known and not found.drifted


def test_the_stamp_is_the_schema_version_the_apply_left(sqlite_url: str) -> None:
    release(sqlite_url, MODEL, "1")
    with plain(sqlite_url) as connection:
        (version,) = connection.execute("pragma schema_version").fetchone()
    assert _recorded(sqlite_url)[SCHEMA_VERSION_KEY] == version
    # writing rows does not change the schema
    _sql(sqlite_url, "insert into employee (name) values ('Ann')")
    assert drift_at_a_glance(sqlite_url) == "unchanged"


@pytest.mark.parametrize(
    "change",
    [
        "alter table employee add column badge varchar(10)",
        "create index by_hand on employee (name)",
        "drop table employee",
    ],
)
def test_a_change_made_outside_oneclick_is_left_to_the_full_check(
    sqlite_url: str, change: str
) -> None:
    release(sqlite_url, MODEL, "1")
    assert drift_at_a_glance(sqlite_url) == "unchanged"
    _sql(sqlite_url, change)
    assert drift_at_a_glance(sqlite_url) is None
    found = detect_drift(sqlite_url)  # what status falls back to
    assert found.known and found.drifted


def test_a_missing_file_is_unrecorded_and_stays_missing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'never.db'}"
    assert drift_at_a_glance(url) == "unrecorded"
    assert not (tmp_path / "never.db").exists()
    assert list(tmp_path.iterdir()) == []
    # the full check says the same (it does create an empty file)
    assert not detect_drift(url).known
    assert drift_at_a_glance(url) == "unrecorded"


def test_a_missing_directory_is_left_to_the_full_check(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nowhere' / 'stage.db'}"
    assert drift_at_a_glance(url) is None
    assert not (tmp_path / "nowhere").exists()


def test_a_database_oneclick_never_touched_is_unrecorded(sqlite_url: str) -> None:
    _sql(sqlite_url, "create table employee (id integer primary key, name text)")
    assert drift_at_a_glance(sqlite_url) == "unrecorded"
    assert not detect_drift(sqlite_url).known


def test_a_record_table_without_its_row_is_unrecorded(sqlite_url: str) -> None:
    release(sqlite_url, MODEL, "1")
    _sql(sqlite_url, "delete from oneclick_schema")
    assert drift_at_a_glance(sqlite_url) == "unrecorded"
    assert not detect_drift(sqlite_url).known


def test_an_older_record_without_a_schema_description_is_unrecorded(sqlite_url: str) -> None:
    _sql(
        sqlite_url,
        "create table oneclick_schema (id integer primary key, fingerprint varchar(80) not null,"
        " app varchar(80) not null, release varchar(120) not null,"
        " applied_at varchar(40) not null)",
        "insert into oneclick_schema values (1, 'sha256:old', 'shop', '0', 'then')",
    )
    assert drift_at_a_glance(sqlite_url) == "unrecorded"
    assert not detect_drift(sqlite_url).known
    release(sqlite_url, MODEL, "1")  # extends the table: the stamp is taken after that
    assert drift_at_a_glance(sqlite_url) == "unchanged"
    assert not detect_drift(sqlite_url).drifted


def test_a_record_without_the_stamp_is_left_to_the_full_check(sqlite_url: str) -> None:
    release(sqlite_url, MODEL, "1")
    recorded = _recorded(sqlite_url)
    del recorded[SCHEMA_VERSION_KEY]
    with plain(sqlite_url) as connection:
        connection.execute("update oneclick_schema set live_schema = ?", (json.dumps(recorded),))
    assert drift_at_a_glance(sqlite_url) is None
    found = detect_drift(sqlite_url)
    assert found.known and not found.drifted


def test_a_second_apply_that_changes_the_schema_is_unchanged_again(sqlite_url: str) -> None:
    release(sqlite_url, MODEL, "1")
    first = _recorded(sqlite_url)[SCHEMA_VERSION_KEY]
    result = release(sqlite_url, BIGGER, "2")
    assert result.changes and not result.fast_path
    assert _recorded(sqlite_url)[SCHEMA_VERSION_KEY] != first
    assert drift_at_a_glance(sqlite_url) == "unchanged"
    assert not detect_drift(sqlite_url).drifted


def test_an_apply_after_drift_records_the_new_schema(sqlite_url: str) -> None:
    release(sqlite_url, MODEL, "1")
    _sql(sqlite_url, "create index by_hand on employee (name)")
    assert drift_at_a_glance(sqlite_url) is None
    release(sqlite_url, BIGGER, "2")
    assert drift_at_a_glance(sqlite_url) == "unchanged"
    assert not detect_drift(sqlite_url).drifted


def test_a_locked_database_is_left_to_the_full_check(sqlite_url: str) -> None:
    release(sqlite_url, MODEL, "1")
    with closing(sqlite3.connect(_path(sqlite_url), isolation_level=None)) as holder:
        holder.execute("begin exclusive")
        assert drift_at_a_glance(sqlite_url) is None
        holder.execute("rollback")
    assert drift_at_a_glance(sqlite_url) == "unchanged"


def test_a_file_that_is_not_a_database_is_left_to_the_full_check(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"this is not a SQLite database, not at all" * 100)
    assert drift_at_a_glance(f"sqlite:///{tmp_path / 'junk.db'}") is None
    (tmp_path / "folder.db").mkdir()
    assert drift_at_a_glance(f"sqlite:///{tmp_path / 'folder.db'}") is None


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://oneclick@localhost:5432/shop",
        "postgresql+psycopg://oneclick:secret@db/shop",
        "postgresql:///shop",
        "mysql:///shop",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///stage.db?mode=ro&uri=true",
        "sqlite:///file:stage.db",
    ],
)
def test_other_urls_are_left_to_the_full_check(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where a URL misread as a relative path would point
    assert drift_at_a_glance(url) is None
    assert list(tmp_path.iterdir()) == []


def test_paths_are_read_as_sqlalchemy_reads_them(tmp_path: Path) -> None:
    assert sqlite_path(f"sqlite:///{tmp_path}/a b%20#c.db") == tmp_path / "a b%20#c.db"
    assert sqlite_path("sqlite:///stage.db") == Path.cwd() / "stage.db"
    url = f"sqlite:///{tmp_path / 'odd name %41 #1.db'}"
    release(url, MODEL, "1")
    assert drift_at_a_glance(url) == "unchanged"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd name %41 #1.db"]


def test_it_imports_neither_sqlalchemy_nor_pydantic(sqlite_url: str) -> None:
    release(sqlite_url, MODEL, "1")
    code = (
        "import sys\n"
        "from oneclick.data.quick_drift import drift_at_a_glance\n"
        f"print(drift_at_a_glance({sqlite_url!r}))\n"
        "print(sorted(m for m in ('sqlalchemy', 'pydantic', 'alembic') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.splitlines() == ["unchanged", "[]"]
