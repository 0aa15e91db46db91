"""Type changes on real SQLite and PostgreSQL: widening ones applied with every value kept,
lossy ones refused before anything runs, the database untouched."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from oneclick.compiler.schema import schema_fingerprint
from oneclick.errors import SchemaError
from tests.oneclick.data.data_support import (
    app,
    assert_kept,
    attr,
    dump,
    entity,
    fill,
    live_schema,
    release,
    scalar,
)

BEFORE = [
    attr("Title", "text", length=20),
    attr("Count", "integer"),
    attr("Big", "integer"),
    attr("Price", "decimal", precision=8, scale=2),
    attr("Day", "date", mandatory=True),
]
AFTER = [
    attr("Title", "text", length=200),
    attr("Count", "long"),
    attr("Big", "decimal", precision=14, scale=2),
    attr("Price", "decimal", precision=12, scale=4),
    attr("Day", "datetime", mandatory=True),
]


def test_widening_changes_are_applied_and_keep_every_value(db_url: str) -> None:
    release(db_url, app(entity("Item", *BEFORE), entity("Note", attr("Day", "date"))), "1")
    fill(db_url, app(entity("Item", *BEFORE)), rows=20, seed=4)
    fill(db_url, app(entity("Note", attr("Day", "date"))), rows=2, seed=5)
    before = dump(db_url)
    result = release(db_url, app(entity("Item", *AFTER), entity("Note", attr("Day", "date"))), "2")
    assert {str(c) for c in result.changes} == {
        "widen type item.title (VARCHAR(20) -> VARCHAR(200))",
        "widen type item.count (INTEGER -> BIGINT)",
        "widen type item.big (INTEGER -> NUMERIC(14, 2))",
        "widen type item.price (NUMERIC(8, 2) -> NUMERIC(12, 4))",
        "widen type item.day (DATE -> DATETIME)",
    }
    after = dump(db_url)
    assert assert_kept(before, after) == 20 * 6 + 2 * 2
    # the values come back in the new types
    row = after["item"][1]
    assert isinstance(row["day"], dt.datetime) and row["day"].time() == dt.time(0, 0)
    assert isinstance(row["big"], Decimal)
    # and the widened columns take what the new types allow
    fill(db_url, app(entity("Item", *AFTER)), rows=5, seed=6)
    assert len(dump(db_url)["item"]) == 25
    # SQLite: dates are rewritten in the datetime format the app writes
    if db_url.startswith("sqlite"):
        assert scalar(db_url, "select day from item where id = 1").endswith(" 00:00:00.000000")


def test_the_sqlite_script_renders_retypes_as_plain_alembic(db_url: str) -> None:
    release(db_url, app(entity("Item", *BEFORE)), "1")
    script = release(db_url, app(entity("Item", *AFTER)), "2").script
    if db_url.startswith("sqlite"):
        assert "recreate='always', reflect_args=[" in script
        assert "op.execute(" in script and "00:00:00.000000" in script
    else:
        assert "op.alter_column('item', 'day'" in script
    compile(script, "migration.py", "exec")


LOSSY: list[tuple[dict[str, Any], dict[str, Any], str]] = [
    (
        attr("Title", "text", length=20),
        attr("Title", "text", length=10),
        r"item\.title: changing the type of Item\.Title from VARCHAR\(20\) \(text\(20\)\) to "
        r"VARCHAR\(10\) \(text\(10\)\) could lose data: shorter text.*keep the length at 20",
    ),
    (
        attr("Price", "decimal", precision=8, scale=2),
        attr("Price", "integer"),
        r"Item\.Price from NUMERIC\(8, 2\).*to INTEGER.*the fraction would be dropped",
    ),
    (
        attr("Price", "decimal", precision=8, scale=2),
        attr("Price", "decimal", precision=8, scale=1),
        r"fewer digits after the point \(2 -> 1\).*keep the scale at 2",
    ),
    (
        attr("Price", "decimal", precision=8, scale=2),
        attr("Price", "decimal", precision=7, scale=2),
        r"holds 5 digits before the point.*make the precision at least 8 with scale 2",
    ),
    (
        attr("Title", "text", length=20),
        attr("Title", "integer"),
        r"text\(20\) values cannot all be turned into integer values.*add a new attribute",
    ),
    (
        attr("Count", "long"),
        attr("Count", "integer"),
        r"long to integer: large values would not fit",
    ),
    (
        attr("Count", "integer"),
        attr("Count", "decimal", precision=6, scale=2),
        r"holds 4 digits before the point; integer values need 10",
    ),
    (
        attr("At", "datetime"),
        attr("At", "date"),
        r"the time of day would be dropped",
    ),
    (
        attr("Flag", "boolean"),
        attr("Flag", "integer"),
        r"boolean values cannot all be turned into integer",
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), LOSSY, ids=[m[1]["type"] for m in LOSSY])
def test_a_lossy_change_is_refused_and_the_database_is_untouched(
    db_url: str, old: dict[str, Any], new: dict[str, Any], message: str
) -> None:
    first = app(entity("Item", old, attr("Keep", "text")))
    release(db_url, first, "1")
    fill(db_url, first, rows=5, seed=1)
    schema, rows = live_schema(db_url), dump(db_url)
    # a widening change elsewhere in the same release does not run either
    second = app(
        entity("Item", new, attr("Keep", "text", length=90)), entity("Other", attr("A", "text"))
    )
    with pytest.raises(SchemaError, match=message) as refused:
        release(db_url, second, "2")
    assert "nothing was applied" in str(refused.value)
    assert live_schema(db_url) == schema
    assert dump(db_url) == rows
    assert scalar(db_url, "select fingerprint from oneclick_schema") == schema_fingerprint(first)
