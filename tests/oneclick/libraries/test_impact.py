"""The impact check on its own: removed and added record keys, defaults that use a removed
key, and rows of a real SQLite stage database that hold one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from oneclick.libraries.impact import check_impact, library_changes
from oneclick.model import MappingCatalog, load_app

OLD = {("finance-common", "1.2.0"): {"Category": ["Travel", "Meals"], "PaymentMethod": ["Card"]}}
STORE = MappingCatalog({**OLD, ("finance-common", "1.3.0"): {"Category": ["Travel", "Food"]}})
APP = """\
app: demo
libraries:
  - {name: finance-common, version: ^1.2.0}
entities:
  - name: Expense
    attributes:
      - {name: Category, type: finance-common.Category, default: Meals}
      - {name: Paid, type: finance-common.Category}
"""


def test_removed_keys_used_as_a_default_or_stored_are_blockers(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(APP)
    model = load_app(tmp_path, MappingCatalog(OLD))  # checked against what the stage runs
    running = [{"name": "finance-common", "version": "1.2.0"}]
    taking = [{"name": "finance-common", "version": "1.3.0"}]
    (change,) = library_changes(STORE, running, taking)
    assert change.removed == {"Category": ["Meals"], "PaymentMethod": ["Card"]}
    assert change.added == {"Category": ["Food"]}
    assert library_changes(STORE, running, running) == []

    database = tmp_path / "stage.db"
    url = f"sqlite:///{database}"
    assert check_impact(model, "qa", [change], url).blockers[0].default  # no table yet
    with sqlite3.connect(database) as connection:
        connection.execute(
            "CREATE TABLE expense (id INTEGER PRIMARY KEY, category TEXT, paid TEXT)"
        )
        rows = [("Meals", "Meals"), ("Meals", "Travel"), ("Travel", None)]
        connection.executemany("INSERT INTO expense (category, paid) VALUES (?, ?)", rows)
    impact = check_impact(model, "qa", [change], url)
    found = {(b.attribute, b.key, b.rows, b.default) for b in impact.blockers}
    assert found == {
        ("Expense.Category", "Meals", 0, True),
        ("Expense.Category", "Meals", 2, False),
        ("Expense.Paid", "Meals", 1, False),
    }
    assert "2 rows of expense.category (Expense.Category) hold it" in impact.message("demo 1.0.0")
