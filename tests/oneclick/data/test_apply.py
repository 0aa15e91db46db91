"""The data tool against real SQLite databases: additive changes applied, nothing dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    inspect,
    text,
)

from oneclick.data import apply_schema, plan_schema
from oneclick.errors import SchemaError


def employee_v1() -> MetaData:
    metadata = MetaData()
    Table(
        "employee",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(100), nullable=False),
    )
    return metadata


def employee_v2() -> MetaData:
    metadata = MetaData()
    Table(
        "employee",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(100), nullable=False),
        Column("active", Boolean, nullable=False, default=True),
        Column("email", String(250)),
    )
    Table(
        "expense",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("owner", Integer, ForeignKey("employee.id")),
    )
    return metadata


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'stage.db'}"


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        result = [tuple(row) for row in connection.execute(text(sql))]
    engine.dispose()
    return result


def execute(url: str, sql: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(sql))
    engine.dispose()


def test_first_apply_creates_tables_and_records_fingerprint(url: str) -> None:
    result = apply_schema(url, employee_v1(), "sha256:one", app="a", release="1")
    assert [str(c) for c in result.changes] == ["create table employee"]
    assert "op.create_table('employee'" in result.script
    assert rows(url, "select fingerprint, app, release from oneclick_schema") == [
        ("sha256:one", "a", "1")
    ]


def test_additive_change_keeps_rows_and_fills_defaults(url: str) -> None:
    apply_schema(url, employee_v1(), "sha256:one", app="a", release="1")
    execute(url, "insert into employee(name) values ('Ann')")
    plan = plan_schema(url, employee_v2(), "sha256:two")
    assert not plan.up_to_date
    assert {str(c) for c in plan.changes} == {
        "create table expense",
        "add column employee.active (BOOLEAN)",
        "add column employee.email (VARCHAR(250))",
    }
    apply_schema(url, employee_v2(), "sha256:two", app="a", release="2")
    assert rows(url, "select id, name, active, email from employee") == [(1, "Ann", 1, None)]


def test_rerun_takes_the_fast_path(url: str) -> None:
    apply_schema(url, employee_v2(), "sha256:two", app="a", release="2")
    again = apply_schema(url, employee_v2(), "sha256:two", app="a", release="2")
    assert again.fast_path and again.changes == []
    assert plan_schema(url, employee_v2(), "sha256:two").up_to_date


def test_removed_attribute_and_entity_are_retired_not_dropped(url: str) -> None:
    apply_schema(url, employee_v2(), "sha256:two", app="a", release="2")
    execute(url, "insert into employee(name, active, email) values ('Ann', 1, 'ann@example.org')")
    execute(url, "insert into expense(owner) values (1)")
    result = apply_schema(url, employee_v1(), "sha256:one", app="a", release="3")
    assert {str(c) for c in result.changes} == {
        "retire table expense (kept with its rows)",
        "retire column employee.active (kept)",
        "retire column employee.email (kept)",
    }
    assert rows(url, "select name, active, email from employee") == [("Ann", 1, "ann@example.org")]
    assert rows(url, "select owner from expense") == [(1,)]
    # a retired mandatory column was made nullable so that new inserts keep working
    execute(url, "insert into employee(name) values ('Bo')")
    columns = {c["name"]: c for c in inspect(create_engine(url)).get_columns("employee")}
    assert columns["active"]["nullable"] is True


def test_new_mandatory_attribute_without_default_on_a_table_with_rows_is_refused(url: str) -> None:
    apply_schema(url, employee_v1(), "sha256:one", app="a", release="1")
    execute(url, "insert into employee(name) values ('Ann')")
    metadata = employee_v1()
    metadata.tables["employee"].append_column(Column("badge", String(10), nullable=False))
    with pytest.raises(SchemaError, match=r"employee\.badge: a new mandatory attribute"):
        apply_schema(url, metadata, "sha256:three", app="a", release="2")
    assert rows(url, "select fingerprint from oneclick_schema") == [("sha256:one",)]


def test_lossy_type_change_is_refused_and_nothing_changes(url: str) -> None:
    apply_schema(url, employee_v1(), "sha256:one", app="a", release="1")
    execute(url, "insert into employee(name) values ('Ann')")
    metadata = MetaData()
    Table(
        "employee",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(10), nullable=False),
        Column("email", String(250)),
    )
    with pytest.raises(SchemaError, match=r"employee\.name: changing the type") as info:
        apply_schema(url, metadata, "sha256:four", app="a", release="2")
    assert "nothing was applied" in str(info.value)
    assert [c["name"] for c in inspect(create_engine(url)).get_columns("employee")] == [
        "id",
        "name",
    ]
    assert rows(url, "select name from employee") == [("Ann",)]
