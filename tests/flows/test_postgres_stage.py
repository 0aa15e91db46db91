"""A stage whose database is PostgreSQL: rows kept across publishes, drift reported by the
next publish's artifact and by ``oneclick status``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from flows.publish_app import publish_app
from oneclick.cli.main import cli
from tests.oneclick.data.local_postgres import LocalPostgres
from tests.support import EXAMPLES, SECRET, latest_artifact


def test_a_postgresql_stage_keeps_rows_and_reports_changes_made_outside_oneclick(
    published_libraries: Path,
    postgres: LocalPostgres,
    stage_block: Callable[..., str],
) -> None:
    url = postgres.create_database()
    stage = stage_block("pg-dev", order=10, database_url=url)
    first = publish_app(str(EXAMPLES / "expenses"), stage)
    created = httpx.post(f"{first.url}/api/employee", json={"Name": "Di", "Email": "di@x.org"})
    assert created.status_code == 201, created.text
    engine = create_engine(url)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT name FROM employee")).scalars().all() == ["Di"]
        connection.execute(text("ALTER TABLE employee ADD COLUMN nickname varchar(20)"))
        connection.execute(text("CREATE INDEX employee_by_email ON employee (email)"))
    engine.dispose()

    status = CliRunner().invoke(cli, ["status", "expenses"])
    assert status.exit_code == 0, status.output
    row = next(line.split() for line in status.output.splitlines() if " pg-dev " in line)
    assert row[5:7] == ["2", "change(s)"], status.output
    assert "expenses on pg-dev: drift: column added employee.nickname" in status.output
    assert "drift: index added employee (employee_by_email)" in status.output

    again = publish_app(str(EXAMPLES / "expenses"), stage)
    assert again.version == first.version and again.schema_changes == []
    assert any("nickname" in change for change in again.drift), again.drift
    markdown = latest_artifact("expenses-pg-dev-release")
    assert "## Changes made outside oneclick" in markdown and "nickname" in markdown
    names = [e["Name"] for e in httpx.get(f"{again.url}/api/employee").json()["items"]]
    assert names == ["Di"]
    assert SECRET not in markdown and url not in markdown
