"""The served app's schema check (``runtime/server/schema_fit.py``) against real reflection.

Every type a model declares is judged against column types reflected from real SQLite and
PostgreSQL databases; the verdict must be the data tool's (``judge_type_change``: declared
→ live is the same or a widening), so what the data tool applies as a widening keeps the
previous release ready. The one deliberate difference: a live SMALLINT holds no integer.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, Table, create_engine, inspect
from sqlalchemy.types import TypeEngine

import oneclick.compiler
from oneclick.compiler import app_metadata
from oneclick.data.widening import judge_type_change
from oneclick.model.types import AppModel
from tests.oneclick.data.local_postgres import LocalPostgres

SCHEMA_FIT = Path(oneclick.compiler.__file__).parent / "runtime" / "server" / "schema_fit.py"
# Every kind a model declares, with a bounded text and decimal (models always bound them).
DECLARING_APP = AppModel.model_validate(
    {
        "app": "kinds",
        "entities": [
            {
                "name": "Declared",
                "attributes": [
                    {"name": "Title", "type": "text", "length": 200},
                    {"name": "Amount", "type": "decimal", "precision": 12, "scale": 2},
                    {"name": "Quantity", "type": "integer"},
                    {"name": "Capacity", "type": "long"},
                    {"name": "Approved", "type": "boolean"},
                    {"name": "SpentOn", "type": "date"},
                    {"name": "PlacedAt", "type": "datetime"},
                ],
            }
        ],
    }
)
COMMON_DDL = [
    "VARCHAR(100)", "VARCHAR(200)", "VARCHAR(300)", "TEXT", "CHAR(200)",
    "NUMERIC(12, 2)", "NUMERIC(12, 1)", "NUMERIC(11, 2)", "NUMERIC(16, 4)", "NUMERIC(10, 0)",
    "NUMERIC(9, 0)", "NUMERIC(19, 0)", "NUMERIC(18, 0)", "NUMERIC(21, 2)", "NUMERIC",
    "INTEGER", "BIGINT", "REAL", "BOOLEAN", "DATE", "TIMESTAMP",
]  # fmt: skip
DIALECT_DDL = {
    "sqlite": ["DATETIME", "DECIMAL(12, 2)"],
    "postgresql": ["DOUBLE PRECISION", "TIMESTAMP WITH TIME ZONE", "TIME", "INTERVAL"],
}


@pytest.fixture(scope="module")
def schema_fit() -> Iterator[ModuleType]:
    """The module as a build carries it, imported by path (its dataclass needs it listed in
    ``sys.modules`` while it is defined)."""
    name = "served_schema_fit"
    spec = importlib.util.spec_from_file_location(name, SCHEMA_FIT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[name]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kinds.db'}"
        return
    server: LocalPostgres = request.getfixturevalue("postgres")
    url = server.create_database()
    yield url
    server.drop_database(url)


def reflected(url: str, ddl: list[str]) -> dict[str, TypeEngine[Any]]:
    """Each SQL type in ``ddl`` as the database reflects it, by its DDL."""
    columns = ", ".join(f"c{n} {type_}" for n, type_ in enumerate(ddl))
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE TABLE live ({columns})")
        found = {c["name"]: c["type"] for c in inspect(connection).get_columns("live")}
    engine.dispose()
    return {type_: found[f"c{n}"] for n, type_ in enumerate(ddl)}


def declared_columns() -> list[Column[Any]]:
    return [c for c in app_metadata(DECLARING_APP).tables["declared"].columns if c.name != "id"]


def test_the_check_agrees_with_the_data_tools_widening(schema_fit: ModuleType, db_url: str) -> None:
    dialect = db_url.split(":")[0].split("+")[0]
    live_types = reflected(db_url, COMMON_DDL + DIALECT_DDL[dialect])
    disagreements = []
    held = 0
    for column in declared_columns():
        for ddl, live in live_types.items():
            verdict = judge_type_change(column.type, live)
            expected = verdict.same or verdict.widening
            found = schema_fit.holds(schema_fit.kind_of(live), schema_fit.kind_of(column.type))
            held += found
            if found != expected:
                disagreements.append(f"{column.name} in {ddl}: {found}, the data tool {verdict}")
    assert disagreements == []
    assert held > len(declared_columns()), "each declared type is held by several live ones"


def test_a_smallint_holds_no_integer(schema_fit: ModuleType, tmp_path: Path) -> None:
    live = reflected(f"sqlite:///{tmp_path / 'small.db'}", ["SMALLINT"])["SMALLINT"]
    quantity = next(c for c in declared_columns() if c.name == "quantity")
    assert judge_type_change(quantity.type, live).same, "the data tool reads it as integer"
    assert not schema_fit.holds(schema_fit.kind_of(live), schema_fit.kind_of(quantity.type))


def test_misfits_name_table_column_live_type_and_declared_kind(
    schema_fit: ModuleType, db_url: str
) -> None:
    engine = create_engine(db_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE declared (id INTEGER PRIMARY KEY, title TEXT, amount NUMERIC(30, 1), "
            "quantity BIGINT, capacity INTEGER, spent_on TIMESTAMP, retired_column INTEGER)"
        )
        connection.exec_driver_sql("CREATE TABLE added_later (id INTEGER PRIMARY KEY)")
        wanted = MetaData()
        tables = [
            *app_metadata(DECLARING_APP).tables.values(),
            Table("trip", wanted, Column("id", declared_columns()[0].type)),
        ]
        problems = schema_fit.find_misfits(tables, inspect(connection))
    engine.dispose()
    assert problems == [
        "column declared.amount is NUMERIC(30, 1), this build writes decimal(12, 2)",
        "column declared.capacity is INTEGER, this build writes long",
        "table declared has no column approved",
        "table declared has no column placed_at",
        "the database has no table trip",
    ]
    assert schema_fit.summarize(problems) == "; ".join(problems[:3]) + "; and 2 more"
    assert schema_fit.summarize(problems[:3]) == "; ".join(problems[:3])
