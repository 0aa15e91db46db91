"""Renames through ``renamed_from`` on real SQLite and PostgreSQL: values, rows and references
move with the new names; a hint naming nothing is an error."""

from __future__ import annotations

import pytest

from oneclick.errors import SchemaError
from tests.oneclick.data.data_support import (
    app,
    assert_kept,
    attr,
    dump,
    entity,
    execute,
    fill,
    full_plan,
    live_schema,
    release,
)

PERSON = entity("Person", attr("Name", "text", length=80), attr("Born", "date"))
TASK = entity("Task", attr("Title", "text"), attr("Owner", "Person"))
V1 = app(PERSON, TASK)


def test_an_attribute_rename_keeps_its_values(db_url: str) -> None:
    release(db_url, V1, "1")
    fill(db_url, V1, rows=4)
    before = dump(db_url)
    renamed = app(
        entity(
            "Person",
            attr("FullName", "text", length=120, renamed_from="Name"),
            attr("Born", "date"),
        ),
        TASK,
    )
    result = release(db_url, renamed, "2")
    assert [str(c) for c in result.changes] == [
        "widen type person.name (VARCHAR(80) -> VARCHAR(120))",
        "rename column person.full_name (from name)",
    ]
    assert assert_kept(before, dump(db_url), columns={("person", "name"): "full_name"}) == 24
    assert "name" not in live_schema(db_url)["tables"]["person"]["columns"]
    # the next release still carries the hint: nothing to do, no error
    again = app(
        entity(
            "Person",
            attr("FullName", "text", length=120, renamed_from="Name"),
            attr("Born", "date"),
        ),
        TASK,
        entity("Extra", attr("A", "text")),
    )
    assert [str(c) for c in release(db_url, again, "3").changes] == ["create table extra"]


def test_an_entity_rename_keeps_its_rows_and_the_references_to_it(db_url: str) -> None:
    release(db_url, V1, "1")
    fill(db_url, V1, rows=4)
    before = dump(db_url)
    renamed = app(
        entity(
            "Member",
            attr("Name", "text", length=80),
            attr("Birthday", "date", renamed_from="Born"),
            renamed_from="Person",
        ),
        entity("Task", attr("Title", "text"), attr("Owner", "Member")),
    )
    result = release(db_url, renamed, "2")
    assert [str(c) for c in result.changes] == [
        "rename table member (from person)",
        "rename column member.birthday (from born)",
    ]
    after = dump(db_url)
    kept = assert_kept(
        before, after, tables={"person": "member"}, columns={("person", "born"): "birthday"}
    )
    assert kept == 4 * 3 + 4 * 3
    schema = live_schema(db_url)["tables"]
    assert "person" not in schema
    assert schema["task"]["foreign_keys"] == ["owner -> member(id)"]
    # the schema is exactly the model's now: a full plan finds nothing to do
    assert full_plan(db_url, renamed).changes == []
    # the app keeps working: new rows reference the renamed table
    fill(db_url, renamed, rows=2, seed=9)


def test_a_hint_naming_something_that_does_not_exist_is_an_error(db_url: str) -> None:
    release(db_url, V1, "1")
    before = live_schema(db_url)
    wrong_entity = app(
        entity("Member", attr("Name", "text", length=80), renamed_from="Persona"),
        entity("Task", attr("Title", "text"), attr("Owner", "Member")),
    )
    with pytest.raises(
        SchemaError,
        match=r"entity Member is renamed from Persona, but the database has neither "
        r"table member nor persona \(it has: person, task\)",
    ):
        release(db_url, wrong_entity, "2")
    wrong_attribute = app(
        entity(
            "Person", attr("Name", "text", length=80), attr("Birthday", "date", renamed_from="Bron")
        ),
        TASK,
    )
    with pytest.raises(
        SchemaError,
        match=r"Person\.Birthday is renamed from Bron, but table person has neither "
        r"column birthday nor bron \(it has: born, id, name\)",
    ):
        release(db_url, wrong_attribute, "2")
    twice = app(
        entity("Member", attr("Name", "text"), renamed_from="Person"),
        entity("Human", attr("Name", "text"), renamed_from="Person"),
        entity("Task", attr("Title", "text"), attr("Owner", "Member")),
    )
    with pytest.raises(
        SchemaError, match=r"entities Human and Member are both renamed from Person"
    ):
        release(db_url, twice, "2")
    assert live_schema(db_url) == before


def test_hints_on_an_empty_database_or_a_new_table_have_nothing_to_rename(db_url: str) -> None:
    hinted = app(
        entity("Member", attr("Name", "text", renamed_from="Title"), renamed_from="Person"),
    )
    assert [str(c) for c in release(db_url, hinted, "1").changes] == ["create table member"]
    more = app(
        entity("Member", attr("Name", "text", renamed_from="Title"), renamed_from="Person"),
        entity("Note", attr("Body", "text", renamed_from="Text")),
    )
    assert [str(c) for c in release(db_url, more, "2").changes] == ["create table note"]


def test_an_old_table_still_there_beside_the_new_one_is_left_as_retired(db_url: str) -> None:
    release(db_url, V1, "1")
    execute(db_url, "create table member (id integer primary key, name varchar(80))")
    renamed = app(entity("Member", attr("Name", "text", length=80), renamed_from="Person"))
    result = release(db_url, renamed, "2")
    assert {str(c) for c in result.changes} == {
        "retire table person (kept with its rows)",
        "retire table task (kept with its rows)",
    }
    assert {str(c) for c in result.drift} == {"drift: table added member (id, name)"}
