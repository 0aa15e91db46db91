"""How the data tool runs, on real SQLite and PostgreSQL: one transaction (a failing script
leaves nothing behind), one runner at a time, and the fast path that reads one row."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text

from oneclick.compiler.schema import schema_fingerprint
from oneclick.data import SchemaResult
from oneclick.data.engine import SCHEMA_LOCK_KEY
from oneclick.errors import SchemaError
from tests.oneclick.data.data_support import (
    app,
    attr,
    dump,
    entity,
    execute,
    fill,
    full_plan,
    live_schema,
    release,
    scalar,
)


def wide_app(entities: int, attributes: int, name: str = "wide") -> Any:
    types = ["text", "integer", "decimal", "date", "boolean", "long", "datetime", "email"]
    return app(
        *[
            entity(
                f"Thing{e}",
                *[attr(f"Field{a}", types[a % len(types)]) for a in range(attributes)],
                indexes=[{"attributes": ["Field0"]}],
            )
            for e in range(entities)
        ],
        name=name,
    )


@contextmanager
def recorded_statements() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def test_the_fast_path_reads_one_row_and_reflects_nothing(db_url: str) -> None:
    model = wide_app(10, 8)
    release(db_url, model, "1")
    with recorded_statements() as fast:
        result = release(db_url, model, "1")
    assert result.fast_path and result.changes == []
    with recorded_statements() as full:
        assert full_plan(db_url, model).changes == []
    tables = [t.lower() for t in ("thing0", "thing5", "thing9")]
    assert not [s for s in fast if any(t in s.lower() for t in tables)], fast
    assert len(fast) <= 8, fast
    assert any("oneclick_schema" in s for s in fast)
    # a full plan reflects every table: many times the statements (SQLite: per table)
    assert len(full) >= 3 * len(fast), (len(full), len(fast))


def test_a_failing_script_leaves_the_database_as_it_was(db_url: str) -> None:
    first = app(
        entity("Alpha", attr("Name", "text", length=20), attr("Day", "date")),
        entity("Zeta", attr("Email", "email")),
    )
    release(db_url, first, "1")
    fill(db_url, first, rows=3)
    execute(db_url, "update zeta set email = 'same@example.org'")
    schema, rows = live_schema(db_url), dump(db_url)
    second = app(
        entity(
            "Alpha",
            attr("Name", "text", length=40),
            attr("Day", "datetime"),
            attr("Extra", "integer", mandatory=True, default=3),
        ),
        entity("Beta", attr("Note", "text")),
        entity("Zeta", attr("Email", "email"), indexes=[{"attributes": ["Email"], "unique": True}]),
    )
    planned = full_plan(db_url, second)
    kinds = [c.kind for c in planned.changes]
    assert kinds.index("widen type") < kinds.index("add index")  # the failure comes last
    with pytest.raises(SchemaError, match="the schema script failed and was rolled back"):
        release(db_url, second, "2")
    assert live_schema(db_url) == schema
    assert dump(db_url) == rows
    assert scalar(db_url, "select fingerprint from oneclick_schema") == schema_fingerprint(first)


def _apply_in_thread(url: str, model: Any, results: list[Any], start: threading.Barrier) -> None:
    start.wait()
    try:
        results.append(release(url, model, "1"))
    except Exception as exc:  # reported by the test
        results.append(exc)


def test_two_concurrent_applies_one_waits_both_end_correct(db_url: str) -> None:
    model = wide_app(12, 10)
    results: list[Any] = []
    start = threading.Barrier(2)
    threads = [
        threading.Thread(target=_apply_in_thread, args=(db_url, model, results, start))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(isinstance(r, SchemaResult) for r in results), results
    ran = [r for r in results if not r.fast_path]
    waited = [r for r in results if r.fast_path]
    assert len(ran) == 1 and len(waited) == 1, results
    assert len(ran[0].changes) == 12 + 12  # every table and its index, once
    assert waited[0].changes == []
    assert len(live_schema(db_url)["tables"]) == 12
    assert scalar(db_url, "select fingerprint from oneclick_schema") == schema_fingerprint(model)
    fill(db_url, model, rows=1)


def _waiting_for_advisory_lock(url: str) -> bool:
    query = "select count(*) from pg_locks where locktype = 'advisory' and not granted"
    return bool(scalar(url, query))


def test_an_apply_waits_for_the_runner_before_it(db_url: str) -> None:
    model = app(entity("Thing", attr("Name", "text")))
    results: list[Any] = []
    start = threading.Barrier(2)
    runner = threading.Thread(target=_apply_in_thread, args=(db_url, model, results, start))
    if db_url.startswith("sqlite"):
        holder = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # what another runner's transaction holds
        runner.start()
        start.wait()
        time.sleep(1.0)
        assert runner.is_alive() and not results
        holder.execute("ROLLBACK")
        holder.close()
    else:
        engine = create_engine(db_url)
        with engine.begin() as connection:
            connection.execute(text("select pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK_KEY})
            runner.start()
            start.wait()
            deadline = time.monotonic() + 20
            while not _waiting_for_advisory_lock(db_url) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _waiting_for_advisory_lock(db_url)
            assert runner.is_alive() and not results
        engine.dispose()
    runner.join(timeout=60)
    assert [type(r).__name__ for r in results] == ["SchemaResult"]
    assert [str(c) for c in results[0].changes] == ["create table thing"]
    assert scalar(db_url, "select fingerprint from oneclick_schema") == schema_fingerprint(model)
