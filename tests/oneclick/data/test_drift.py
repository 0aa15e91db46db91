"""Drift on real SQLite and PostgreSQL: changes made outside oneclick are found, reported by
``detect_drift``, plans and applies, and never silently dropped."""

from __future__ import annotations

from oneclick.data import detect_drift
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

MODEL = app(
    entity(
        "Employee",
        attr("Name", "text", length=100, mandatory=True),
        attr("Email", "email"),
        attr("Notes", "text", length=500),
        indexes=[{"attributes": ["Email"]}],
    )
)


def test_a_database_oneclick_never_touched_has_nothing_to_compare(db_url: str) -> None:
    result = detect_drift(db_url)
    assert (result.fingerprint, result.known, result.changes) == (None, False, [])
    assert not result.drifted


def test_changes_made_outside_oneclick_are_reported_and_nothing_is_dropped(db_url: str) -> None:
    release(db_url, MODEL, "1")
    fill(db_url, MODEL, rows=3)
    clean = detect_drift(db_url)
    assert clean.known and not clean.drifted and clean.release == "1"
    execute(db_url, "alter table employee add column badge varchar(10) default 'none' not null")
    execute(db_url, "create table audit (id integer primary key, what varchar(50))")
    execute(db_url, "insert into audit (id, what) values (1, 'kept')")
    execute(db_url, "create index by_hand on employee (name)")
    execute(db_url, "drop index ix_employee_email")
    execute(db_url, "alter table employee drop column notes")
    drift = detect_drift(db_url)
    found = {str(c).replace("::character varying", "") for c in drift.changes}
    assert found == {
        "drift: column added employee.badge (VARCHAR(10) NOT NULL DEFAULT 'none')",
        "drift: column dropped employee.notes (was VARCHAR(500))",
        "drift: index added employee (by_hand)",
        "drift: index dropped employee (ix_employee_email)",
        "drift: table added audit (id, what)",
    }
    planned = full_plan(db_url, MODEL)
    assert planned.drift == drift.changes
    before = dump(db_url)
    result = release(db_url, MODEL.model_copy(update={"title": "again"}), "2")
    assert result.fast_path  # same schema fingerprint: the fast path does not look
    result = release(
        db_url,
        app(
            *[e.model_dump(exclude_none=True) for e in MODEL.entities],
            entity("New", attr("A", "text")),
        ),
        "3",
    )
    assert result.drift == drift.changes
    assert {str(c) for c in result.changes} == {
        "create table new",
        "add column employee.notes (VARCHAR(500))",
        "add index employee (ix_employee_email)",
        "retire column employee.badge (kept)",
        "retire table audit (kept with its rows)",
    }
    after = dump(db_url)
    assert after["audit"] == before["audit"]
    assert [r["badge"] for r in after["employee"].values()] == ["none"] * 3
    indexes = live_schema(db_url)["tables"]["employee"]["indexes"]
    assert sorted(indexes) == ["by_hand", "ix_employee_email"]
    # the apply recorded the schema it left: no drift any more
    assert not detect_drift(db_url).drifted


def test_an_older_record_without_a_schema_description_is_extended(db_url: str) -> None:
    execute(
        db_url,
        "create table oneclick_schema (id integer primary key, fingerprint varchar(80) not null,"
        " app varchar(80) not null, release varchar(120) not null,"
        " applied_at varchar(40) not null)",
    )
    execute(db_url, "insert into oneclick_schema values (1, 'sha256:old', 'shop', '0', 'then')")
    assert not detect_drift(db_url).known
    release(db_url, MODEL, "1")
    assert detect_drift(db_url).known
    # what the compiled app reads still works
    assert scalar(db_url, "select fingerprint from oneclick_schema where id = 1").startswith(
        "sha256:"
    )
