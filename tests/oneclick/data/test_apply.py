"""The data tool's policy on real SQLite and PostgreSQL databases: additive changes applied,
nothing dropped, references as foreign keys, indexes, mandatory attributes."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import IntegrityError

from oneclick.compiler.schema import app_metadata, schema_fingerprint
from oneclick.errors import SchemaError
from tests.oneclick.data.data_support import (
    app,
    assert_kept,
    attr,
    dump,
    entity,
    execute,
    full_plan,
    live_schema,
    plan,
    release,
    scalar,
)

EMPLOYEE = entity("Employee", attr("Name", "text", length=100, mandatory=True))
V1 = app(EMPLOYEE)
V2 = app(
    entity(
        "Employee",
        attr("Name", "text", length=100, mandatory=True),
        attr("Active", "boolean", mandatory=True, default=True),
        attr("Email", "email"),
    ),
    entity("Expense", attr("Owner", "Employee"), attr("Category", "finance-common.Category")),
)


def columns(url: str, table: str) -> dict[str, dict[str, object]]:
    engine = create_engine(url)
    found = {c["name"]: c for c in inspect(engine).get_columns(table)}
    engine.dispose()
    return found


def foreign_keys(url: str, table: str) -> list[tuple[list[str], str]]:
    engine = create_engine(url)
    found = [
        (fk["constrained_columns"], fk["referred_table"])
        for fk in inspect(engine).get_foreign_keys(table)
    ]
    engine.dispose()
    return sorted(found)


def test_first_apply_creates_tables_and_records_fingerprint_and_schema(db_url: str) -> None:
    result = release(db_url, V1, "1.0.0")
    assert [str(c) for c in result.changes] == ["create table employee"]
    assert not result.fast_path
    assert "op.create_table('employee'" in result.script
    assert "def upgrade() -> None:" in result.script and "down_revision = None" in result.script
    compile(result.script, "migration.py", "exec")
    assert scalar(db_url, "select fingerprint from oneclick_schema where id = 1") == (
        schema_fingerprint(V1)
    )
    recorded = json.loads(scalar(db_url, "select live_schema from oneclick_schema"))
    assert list(recorded["tables"]) == ["employee"]
    assert recorded["model"] == {"employee": ["id", "name"]}


def test_additive_change_keeps_rows_and_fills_defaults(db_url: str) -> None:
    release(db_url, V1, "1")
    execute(db_url, "insert into employee(name) values ('Ann')")
    planned = plan(db_url, V2)
    assert not planned.up_to_date
    assert {str(c) for c in planned.changes} == {
        "create table expense",
        "add column employee.active (BOOLEAN, mandatory, existing rows get 1)",
        "add column employee.email (VARCHAR(250))",
    }
    assert scalar(db_url, "select count(*) from employee") == 1  # planning changed nothing
    release(db_url, V2, "2")
    assert dump(db_url)["employee"] == {1: {"id": 1, "name": "Ann", "active": True, "email": None}}


def test_a_rerun_takes_the_fast_path_and_changes_nothing(db_url: str) -> None:
    release(db_url, V2, "2")
    before = live_schema(db_url)
    again = release(db_url, V2, "2")
    assert again.fast_path and again.changes == [] and again.script == "# no schema change\n"
    assert plan(db_url, V2).up_to_date
    assert live_schema(db_url) == before


def test_removed_attribute_and_entity_are_retired_not_dropped(db_url: str) -> None:
    release(db_url, V2, "2")
    execute(db_url, "insert into employee(name, active, email) values ('Ann', true, 'a@b.org')")
    execute(db_url, "insert into expense(owner, category) values (1, 'Travel')")
    before = dump(db_url)
    result = release(db_url, V1, "3")
    assert {str(c) for c in result.changes} == {
        "retire table expense (kept with its rows)",
        "retire column employee.active (kept)",
        "retire column employee.email (kept)",
    }
    assert_kept(before, dump(db_url))
    # the retired mandatory column became nullable: the app's inserts keep working
    execute(db_url, "insert into employee(name) values ('Bo')")
    assert columns(db_url, "employee")["active"]["nullable"] is True
    # a later plan neither reports them again nor plans anything
    assert full_plan(db_url, V1).changes == []


def test_a_new_mandatory_attribute_needs_a_default_on_a_table_with_rows(db_url: str) -> None:
    release(db_url, V1, "1")
    badge = app(
        entity(
            "Employee",
            attr("Name", "text", length=100, mandatory=True),
            attr("Badge", "integer", mandatory=True),
        )
    )
    empty = app(EMPLOYEE, entity("Desk", attr("Code", "text")))
    desk = app(
        EMPLOYEE, entity("Desk", attr("Code", "text"), attr("Floor", "integer", mandatory=True))
    )
    release(db_url, empty, "2")
    # on an empty table a mandatory attribute without a default is fine
    assert [str(c) for c in release(db_url, desk, "3").changes] == [
        "add column desk.floor (INTEGER, mandatory)"
    ]
    assert columns(db_url, "desk")["floor"]["nullable"] is False
    execute(db_url, "insert into employee(name) values ('Ann')")
    with pytest.raises(SchemaError, match=r"employee\.badge: Employee\.Badge is a new mandatory"):
        release(db_url, badge, "4")
    assert "badge" not in columns(db_url, "employee")
    assert scalar(db_url, "select fingerprint from oneclick_schema") == schema_fingerprint(desk)


def test_references_become_foreign_keys_and_static_references_hold_keys(db_url: str) -> None:
    release(db_url, V2, "1")
    assert foreign_keys(db_url, "expense") == [(["owner"], "employee")]
    assert str(columns(db_url, "expense")["category"]["type"]).startswith("VARCHAR(64)")
    execute(db_url, "insert into employee(name, active) values ('Ann', true)")
    execute(db_url, "insert into expense(owner, category) values (1, 'Travel')")
    approver = app(
        *[e.model_dump(exclude_none=True) for e in V2.entities[:1]],
        entity(
            "Expense",
            attr("Owner", "Employee"),
            attr("Category", "finance-common.Category"),
            attr("Approver", "Employee"),
        ),
    )
    result = release(db_url, approver, "2")
    assert [str(c) for c in result.changes] == [
        "add column expense.approver (INTEGER -> employee.id)"
    ]
    assert "create_foreign_key('expense_approver_fkey'" in result.script
    assert foreign_keys(db_url, "expense") == [(["approver"], "employee"), (["owner"], "employee")]
    engine = create_engine(db_url)
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"), engine.begin() as connection:
        if db_url.startswith("sqlite"):  # SQLite checks foreign keys only when asked to
            connection.exec_driver_sql("PRAGMA foreign_keys = ON")
        connection.exec_driver_sql("insert into expense(approver) values (99)")
    engine.dispose()


def test_changing_what_a_reference_points_to_is_refused(db_url: str) -> None:
    base = [
        EMPLOYEE,
        entity("Team", attr("Name", "text")),
    ]
    release(
        db_url, app(*base, entity("Expense", attr("Owner", "Employee"), attr("Size", "integer")))
    )
    before = live_schema(db_url)
    for expense, message in [
        (
            entity("Expense", attr("Owner", "Team"), attr("Size", "integer")),
            "refer to team instead of employee",
        ),
        (
            entity("Expense", attr("Owner", "integer"), attr("Size", "integer")),
            "stop being a reference to employee",
        ),
        (
            entity("Expense", attr("Owner", "Employee"), attr("Size", "Team")),
            "become a reference to team",
        ),
    ]:
        with pytest.raises(SchemaError, match=rf"expense\.\w+: Expense\.\w+ would {message}"):
            release(db_url, app(*base, expense), "2")
        assert live_schema(db_url) == before


def test_indexes_follow_the_model_but_indexes_made_outside_are_left_alone(db_url: str) -> None:
    indexed = app(
        entity(
            "Employee",
            attr("Name", "text", length=100, mandatory=True),
            attr("Email", "email"),
            indexes=[{"attributes": ["Email"], "unique": True}, {"attributes": ["Name"]}],
        )
    )
    plain = app(
        entity("Employee", attr("Name", "text", length=100, mandatory=True), attr("Email", "email"))
    )
    result = release(db_url, indexed, "1")
    assert {str(c) for c in result.changes} == {
        "create table employee",
        "add index employee (ix_employee_email unique)",
        "add index employee (ix_employee_name)",
    }
    execute(db_url, "create index by_hand on employee (email, name)")
    result = release(db_url, plain, "2")
    assert {str(c) for c in result.changes} == {
        "drop index employee (ix_employee_email, no longer declared; it holds no data)",
        "drop index employee (ix_employee_name, no longer declared; it holds no data)",
    }
    assert {str(c) for c in result.drift} == {"drift: index added employee (by_hand)"}
    assert list(live_schema(db_url)["tables"]["employee"]["indexes"]) == ["by_hand"]
    # the unique index is gone, so the app can store what the model now allows
    execute(db_url, "insert into employee(name, email) values ('A', 'x@y.org'), ('B', 'x@y.org')")


def test_optional_to_mandatory_needs_every_row_to_have_a_value(db_url: str) -> None:
    optional = app(entity("Employee", attr("Name", "text", length=100)))
    mandatory = app(entity("Employee", attr("Name", "text", length=100, mandatory=True)))
    release(db_url, optional, "1")
    execute(db_url, "insert into employee(name) values ('Ann'), (null), (null)")
    with pytest.raises(SchemaError, match=r"becomes mandatory, but 2 row\(s\) have no value"):
        release(db_url, mandatory, "2")
    execute(db_url, "update employee set name = 'someone' where name is null")
    result = release(db_url, mandatory, "2")
    assert [str(c) for c in result.changes] == [
        "require employee.name (now mandatory; every row has a value)"
    ]
    assert columns(db_url, "employee")["name"]["nullable"] is False
    relaxed = release(db_url, optional, "3")
    assert [str(c) for c in relaxed.changes] == ["relax employee.name (now optional)"]


def test_the_metadata_carries_rename_hints_and_model_names() -> None:
    model = app(
        entity("Staff", attr("FullName", "text", renamed_from="Name"), renamed_from="Employee")
    )
    table = app_metadata(model).tables["staff"]
    assert table.info == {
        "entity": "Staff",
        "renamed_from": "employee",
        "renamed_from_entity": "Employee",
    }
    assert table.c.full_name.info == {
        "attribute": "FullName",
        "renamed_from": "name",
        "renamed_from_attribute": "Name",
    }
    # hints say how to get to a schema, not which schema: the fingerprint ignores them
    plain = app(entity("Staff", attr("FullName", "text")))
    assert schema_fingerprint(model) == schema_fingerprint(plain)
