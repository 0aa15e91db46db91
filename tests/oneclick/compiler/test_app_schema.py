"""app_metadata and schema_fingerprint: the table contract, and the generated models module."""

from __future__ import annotations

from pathlib import Path

import pytest
from compiler_support import (
    all_types_app,
    app_model,
    build_root,
    example_app,
    load_module,
    money_formats,
)
from sqlalchemy import create_engine, insert, inspect, select

from oneclick.compiler import app_metadata, metadata_fingerprint, schema_fingerprint
from oneclick.errors import BuildError


def test_example_tables_follow_the_contract() -> None:
    metadata = app_metadata(example_app())
    assert sorted(metadata.tables) == ["employee", "expense"]
    expense = metadata.tables["expense"]
    assert {c.name: str(c.type) for c in expense.columns} == {
        "id": "INTEGER",
        "title": "VARCHAR(200)",
        "amount": "NUMERIC(12, 2)",
        "spent_on": "DATE",
        "approved": "BOOLEAN",
        "category": "VARCHAR(64)",
        "owner": "INTEGER",
        "notes": "VARCHAR(2000)",
    }
    assert [c.name for c in expense.primary_key] == ["id"]
    assert expense.c.id.autoincrement is True
    assert expense.c.title.nullable is False and expense.c.notes.nullable is True
    assert [fk.target_fullname for fk in expense.c.owner.foreign_keys] == ["employee.id"]
    assert [(i.name, [c.name for c in i.columns]) for i in expense.indexes] == [
        ("ix_expense_spent_on", ["spent_on"])
    ]
    assert str(metadata.tables["employee"].c.email.type) == "VARCHAR(250)"
    assert "oneclick_schema" not in metadata.tables


def test_defaults_for_lengths_precision_and_types() -> None:
    metadata = app_metadata(all_types_app())
    warehouse = {c.name: str(c.type) for c in metadata.tables["warehouse"].columns}
    order = {c.name: str(c.type) for c in metadata.tables["order"].columns}
    assert warehouse == {
        "id": "INTEGER",
        "code": "VARCHAR(50)",
        "phone": "VARCHAR(20)",
        "capacity": "BIGINT",
        "parent": "INTEGER",
    }
    assert order["price"] == "NUMERIC(18, 4)"
    assert order["placed_at"] == "DATETIME"
    assert order["due_on"] == "DATE"
    assert order["rush"] == "BOOLEAN"
    assert order["contact"] == "VARCHAR(250)"
    assert order["currency"] == "VARCHAR(64)"
    assert order["quantity"] == "INTEGER"
    index = next(iter(metadata.tables["warehouse"].indexes))
    assert index.unique is True
    assert metadata.tables["order"].c.quantity.default.arg == 1  # type: ignore[union-attr]


def test_fingerprint_ignores_model_order_but_not_schema_changes() -> None:
    model = all_types_app()
    fingerprint = schema_fingerprint(model)
    assert fingerprint.startswith("sha256:") and len(fingerprint) == 71
    reordered = model.model_copy(
        update={
            "entities": [
                e.model_copy(update={"attributes": list(reversed(e.attributes))})
                for e in reversed(model.entities)
            ]
        }
    )
    assert schema_fingerprint(reordered) == fingerprint
    example = example_app()
    base = schema_fingerprint(example)
    source = (Path(__file__).parents[3] / "examples/expenses/app.yaml").read_text()
    for old, new in [
        ("length: 200", "length: 201"),
        ("mandatory: true}\n      - {name: Amount", "mandatory: false}\n      - {name: Amount"),
        ("{attributes: [SpentOn]}", "{attributes: [SpentOn], unique: true}"),
        ("- {name: Notes, type: text, length: 2000}", "- {name: Note, type: text, length: 2000}"),
        ("type: Employee}", "type: long}"),
    ]:
        assert old in source
        changed = app_model(source.replace(old, new, 1))
        assert schema_fingerprint(changed) != base, (old, new)


@pytest.mark.parametrize("which", ["example", "all types"])
def test_generated_models_module_builds_the_same_schema(tmp_path: Path, which: str) -> None:
    if which == "example":
        model = example_app()
        root = build_root(tmp_path, model)
    else:
        model = all_types_app()
        root = build_root(tmp_path, model, [money_formats()])
    module = load_module(root / "app" / "server" / "models.py", f"generated_models_{which[0]}")
    assert metadata_fingerprint(module.metadata) == schema_fingerprint(model)
    manifest = (root / "app" / "manifest.json").read_text()
    assert schema_fingerprint(model) in manifest
    assert sorted(module.TABLES) == sorted(e.name for e in model.entities)
    generated = {t.name: t for t in module.metadata.tables.values()}
    for table in app_metadata(model).tables.values():
        for column in table.columns:
            other = generated[table.name].c[column.name]
            assert getattr(other.default, "arg", None) == getattr(column.default, "arg", None)


def test_tables_with_sql_keywords_work_on_sqlite(tmp_path: Path) -> None:
    model = all_types_app()
    engine = create_engine(f"sqlite:///{tmp_path / 'keywords.db'}")
    metadata = app_metadata(model)
    metadata.create_all(engine)
    assert sorted(inspect(engine).get_table_names()) == ["order", "warehouse"]
    warehouse, order = metadata.tables["warehouse"], metadata.tables["order"]
    with engine.begin() as connection:
        connection.execute(insert(warehouse).values(code="W1"))
        connection.execute(insert(order).values(**{"from": 1}))
        row = connection.execute(select(order)).one()
    assert row.quantity == 1 and str(row.due_on) == "2030-01-01" and row.currency == "EUR"
    engine.dispose()


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("app: x1\nentities: [{name: A, attributes: [{name: Id, type: text}]}]", "'id'"),
        (
            "app: x1\nentities: [{name: A, attributes: "
            "[{name: UserId, type: text}, {name: UserID, type: text}]}]",
            "'user_id'",
        ),
        (
            "app: x1\nentities: [{name: OneclickThing, attributes: [{name: B, type: text}]}]",
            "prefix",
        ),
        ("app: x1\nentities: [{name: A, attributes: [{name: B, type: Nope}]}]", "'Nope'"),
        (
            "app: x1\nentities: [{name: A, attributes: [{name: B, type: integer, default: abc}]}]",
            "'abc'",
        ),
    ],
)
def test_models_the_schema_cannot_express_are_refused(yaml_text: str, expected: str) -> None:
    with pytest.raises(BuildError, match=expected):
        app_metadata(app_model(yaml_text))
