"""Ten releases of one app on real SQLite and PostgreSQL, with rows in every table before each
step: after every step every row and every value is still there, the schema is exactly the
model's, and the rendered script, run by plain Alembic on a copy of the database, gives the
same schema and the same rows."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from oneclick.data import detect_drift
from oneclick.data.plan import NO_CHANGE
from tests.oneclick.data.data_support import (
    app,
    assert_kept,
    attr,
    dump,
    entity,
    fill,
    full_plan,
    live_schema,
    plan,
    release,
)
from tests.oneclick.data.local_postgres import LocalPostgres

ENV_PY = """
from alembic import context

context.configure(connection=context.config.attributes["connection"], render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
"""


def employee(name: dict[str, Any], *more: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return entity("Employee", name, *more, **extra)


def expense(*attributes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return entity("Expense", *attributes, **extra)


NAME = attr("Name", "text", length=100, mandatory=True)
EMAIL = attr("Email", "email")
OWNER = attr("Owner", "Employee")
PROJECT = entity(
    "Project", attr("Code", "text", length=20, mandatory=True), attr("Budget", "integer")
)
INITIATIVE = entity(
    "Initiative",
    attr("Code", "text", length=20, mandatory=True),
    attr("Budget", "long"),
    renamed_from="Project",
)
APPROVED = attr("Approved", "boolean", mandatory=True, default=False)
SPENT_INDEX = [{"attributes": ["SpentOn"]}]

# (model, table renames, column renames, the kinds of change expected)
STEPS: list[tuple[Any, dict[str, str], dict[tuple[str, str], str], set[str]]] = [
    (
        app(
            employee(NAME, EMAIL),
            expense(
                attr("Title", "text", length=200, mandatory=True),
                attr("Amount", "decimal", precision=10, scale=2),
                attr("SpentOn", "date"),
                OWNER,
            ),
        ),
        {},
        {},
        {"create table"},
    ),
    (
        app(
            employee(NAME, EMAIL),
            expense(
                attr("Title", "text", length=200, mandatory=True),
                attr("Amount", "decimal", precision=10, scale=2),
                attr("SpentOn", "date"),
                OWNER,
                APPROVED,
            ),
            PROJECT,
        ),
        {},
        {},
        {"create table", "add column"},
    ),
    (
        app(
            employee(attr("Name", "text", length=150, mandatory=True), EMAIL),
            expense(
                attr("Title", "text", length=200, mandatory=True),
                attr("Amount", "decimal", precision=14, scale=3),
                attr("SpentOn", "date"),
                OWNER,
                APPROVED,
            ),
            entity(
                "Project", attr("Code", "text", length=20, mandatory=True), attr("Budget", "long")
            ),
        ),
        {},
        {},
        {"widen type"},
    ),
    (
        app(
            employee(attr("Name", "text", length=150, mandatory=True), EMAIL),
            expense(
                attr("Subject", "text", length=200, mandatory=True, renamed_from="Title"),
                attr("Amount", "decimal", precision=14, scale=3),
                attr("SpentOn", "date"),
                OWNER,
                APPROVED,
                indexes=SPENT_INDEX,
            ),
            entity(
                "Project", attr("Code", "text", length=20, mandatory=True), attr("Budget", "long")
            ),
        ),
        {},
        {("expense", "title"): "subject"},
        {"rename column", "add index"},
    ),
    (
        app(
            employee(attr("Name", "text", length=150, mandatory=True), EMAIL),
            expense(
                attr("Subject", "text", length=200, mandatory=True),
                attr("Amount", "decimal", precision=14, scale=3),
                attr("SpentOn", "date"),
                OWNER,
                APPROVED,
                attr("Initiative", "Initiative"),
                indexes=SPENT_INDEX,
            ),
            INITIATIVE,
        ),
        {"project": "initiative"},
        {},
        {"rename table", "add column"},
    ),
    (
        app(
            employee(attr("Name", "text", length=150, mandatory=True)),
            expense(
                attr("Subject", "text", length=200, mandatory=True),
                attr("Amount", "decimal", precision=14, scale=3),
                attr("SpentOn", "datetime"),
                OWNER,
                APPROVED,
                attr("Initiative", "Initiative"),
                indexes=SPENT_INDEX,
            ),
            INITIATIVE,
        ),
        {},
        {},
        {"retire column", "widen type"},
    ),
    (
        app(
            employee(attr("Name", "text", length=150, mandatory=True)),
            expense(
                attr("Subject", "text", length=200, mandatory=True),
                attr("Amount", "decimal", precision=14, scale=3),
                attr("SpentOn", "datetime"),
                OWNER,
                APPROVED,
                indexes=SPENT_INDEX,
            ),
        ),
        {},
        {},
        {"retire column", "retire table"},
    ),
    (
        app(
            employee(
                attr("Name", "text", length=150),
                attr("Badge", "integer", mandatory=True, default=0),
            ),
            expense(
                attr("Subject", "text", length=200, mandatory=True),
                attr("Amount", "decimal", precision=14, scale=3),
                attr("SpentOn", "datetime"),
                OWNER,
                APPROVED,
                attr("Notes", "text", length=2000),
                indexes=SPENT_INDEX,
            ),
        ),
        {},
        {},
        {"relax", "add column"},
    ),
    (
        app(
            employee(
                attr("Name", "text", length=150),
                attr("Badge", "decimal", precision=12, scale=0, mandatory=True, default=0),
            ),
            expense(
                attr("Title", "text", length=200, mandatory=True, renamed_from="Subject"),
                attr("Amount", "decimal", precision=18, scale=4),
                attr("SpentOn", "datetime"),
                OWNER,
                APPROVED,
                attr("Notes", "text", length=2000),
                indexes=SPENT_INDEX,
            ),
        ),
        {},
        {("expense", "subject"): "title"},
        {"widen type", "rename column"},
    ),
    (
        app(
            entity(
                "Staff",
                attr("Name", "text", length=150),
                attr("Badge", "decimal", precision=12, scale=0, mandatory=True, default=0),
                renamed_from="Employee",
            ),
            expense(
                attr("Title", "text", length=200, mandatory=True),
                attr("Amount", "decimal", precision=18, scale=4),
                attr("SpentOn", "datetime"),
                attr("Owner", "Staff"),
                APPROVED,
                attr("Notes", "text", length=2000),
                attr("Category", "finance-common.Category"),
                indexes=SPENT_INDEX,
            ),
            entity(
                "Initiative",
                attr("Code", "text", length=20, mandatory=True),
                attr("Budget", "long"),
            ),
        ),
        {"employee": "staff"},
        {},
        {"rename table", "add column"},
    ),
]


def _copy_database(url: str, postgres: LocalPostgres | None, tmp: Path) -> str:
    if postgres is None:
        target = tmp / "copy.db"
        shutil.copyfile(url.removeprefix("sqlite:///"), target)
        return f"sqlite:///{target}"
    source = url.rsplit("/", 1)[1]
    copy = f"{source}_copy_{len(list(tmp.iterdir()))}"
    engine = create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
    for attempt in range(50):  # the source must have no session left; ours close promptly
        try:
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{copy}" TEMPLATE "{source}"'))
            break
        except OperationalError:
            if attempt == 49:
                raise
            time.sleep(0.1)
    engine.dispose()
    return postgres.url(copy)


def _run_with_alembic(url: str, script: str, tmp: Path) -> None:
    """Run the rendered script the way a plain Alembic project would."""
    home = tmp / "alembic"
    (home / "versions").mkdir(parents=True)
    (home / "env.py").write_text(ENV_PY)
    standalone = re.sub(r"^down_revision = .*$", "down_revision = None", script, flags=re.M)
    (home / "versions" / "step.py").write_text(standalone)
    config = Config()
    config.set_main_option("script_location", str(home))
    engine = create_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    engine.dispose()


def test_ten_releases_keep_every_row_and_value(
    db_url: str, backend: str, request: Any, tmp_path: Path
) -> None:
    postgres = request.getfixturevalue("postgres") if backend == "postgresql" else None
    previous = None
    compared = 0
    for number, (model, tables, columns, kinds) in enumerate(STEPS, start=1):
        if previous is not None:
            fill(db_url, previous, rows=3, seed=number)
        before = dump(db_url)
        planned = plan(db_url, model)
        assert {c.kind for c in planned.changes} >= kinds, (number, planned.changes)
        step = tmp_path / f"step{number}"
        step.mkdir()
        copy = _copy_database(db_url, postgres, step)
        result = release(db_url, model, f"{number}.0.0")
        assert [str(c) for c in result.changes] == [str(c) for c in planned.changes]
        after = dump(db_url)
        compared += assert_kept(before, after, tables, columns)
        assert all(len(rows) == len(before.get(t, rows)) for t, rows in after.items())
        assert full_plan(db_url, model).changes == [], number
        assert not detect_drift(db_url).drifted
        assert release(db_url, model, f"{number}.0.0").fast_path
        if result.script != NO_CHANGE:  # retiring what is already nullable runs nothing
            _run_with_alembic(copy, result.script, step)
        assert live_schema(copy) == live_schema(db_url), number
        assert dump(copy) == after, number
        if postgres is not None:
            postgres.drop_database(copy)
        previous = model
    assert compared > 500
