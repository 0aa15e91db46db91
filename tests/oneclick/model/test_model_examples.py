"""The example models load cleanly, against an in-memory catalog and a real library store."""

from __future__ import annotations

import json
from pathlib import Path

from oneclick.compiler.digest import content_digest
from oneclick.libraries import LibraryStore
from oneclick.model import AppModel, LibraryCatalog, MappingCatalog, load_app, load_library

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

CATALOG = MappingCatalog(
    {
        ("finance-common", "1.2.0"): {
            "Category": ["Travel", "Meals", "Office", "Training"],
            "PaymentMethod": ["Card", "Cash"],
        },
        ("money-formats", "0.3.0"): {"Currency": ["EUR", "USD", "GBP"]},
    }
)


def test_expenses_app_loads(tmp_path: Path) -> None:
    app = load_app(EXAMPLES / "expenses", CATALOG)
    assert isinstance(app, AppModel)
    assert (app.app, app.version) == ("expenses", "1.0.0")
    assert [e.name for e in app.entities] == ["Expense", "Employee"]
    category = app.entities[0].attribute("Category")
    assert category is not None and category.library_ref == ("finance-common", "Category")
    assert load_app(EXAMPLES / "expenses" / "app.yaml", CATALOG) == app


def test_example_libraries_load() -> None:
    finance = load_library(EXAMPLES / "finance-common", CATALOG)
    assert (finance.library, finance.version, finance.styles) == (
        "finance-common",
        "1.2.0",
        "theme.css",
    )
    assert [s.name for s in finance.static_entities] == ["Category", "PaymentMethod"]
    money = load_library(EXAMPLES / "money-formats" / "library.yaml", CATALOG)
    assert [r.key for r in money.static_entities[0].records] == ["EUR", "USD", "GBP"]


def write_build(root: Path, name: str, version: str, statics: dict[str, list[str]]) -> Path:
    """A hand-written library build directory, with a correct manifest."""
    build = root / f"{name}-{version}"
    build.mkdir(parents=True)
    (build / "enums.py").write_text(f"# {name} {version}\n", encoding="utf-8")
    manifest = {
        "kind": "library",
        "name": name,
        "version": version,
        "title": name,
        "digest": content_digest(build),
        "static_entities": {
            entity: [{"key": key, "label": key} for key in keys] for entity, keys in statics.items()
        },
        "libraries": [],
        "styles": False,
    }
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (build / "manifest.json").write_text(text, encoding="utf-8")
    return build


def test_examples_load_against_a_real_library_store(tmp_path: Path) -> None:
    store = LibraryStore(tmp_path / "store")
    catalog: LibraryCatalog = store
    builds = tmp_path / "builds"
    store.publish(write_build(builds, "money-formats", "0.3.0", {"Currency": ["EUR"]}))
    finance = {"Category": ["Travel", "Meals"], "PaymentMethod": ["Card"]}
    store.publish(write_build(builds, "finance-common", "1.2.0", finance))
    assert load_library(EXAMPLES / "finance-common", catalog).library == "finance-common"
    assert load_app(EXAMPLES / "expenses", catalog).app == "expenses"
