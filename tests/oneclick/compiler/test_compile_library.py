"""compile_library: the library build, its manifest, enums.py, enums.js and styles."""

from __future__ import annotations

import enum
import json
from pathlib import Path

import pytest
from compiler_support import (
    EXAMPLES,
    NODE,
    library_model,
    load_module,
    needs_node,
    run_scripts,
    tree_bytes,
)

from oneclick.compiler import compile_library, content_digest
from oneclick.errors import BuildError
from oneclick.libraries.build import LibraryBuild

FINANCE = EXAMPLES / "finance-common"
MONEY = EXAMPLES / "money-formats"
HOSTILE_LABEL = 'Tom\'s "best" </script><script>alert(1)</script> \\ & \u2028 <b>'
HOSTILE_LIBRARY = f"""
library: odd-labels
version: 1.0.0-rc.1
title: "Odd </script> labels"
static_entities:
  - name: Kind
    records:
      - {{key: None, label: {json.dumps(HOSTILE_LABEL)}}}
      - {{key: class, label: "class"}}
      - {{key: Plain_1, label: 'a \\ b'}}
"""


def compile_finance(out: Path) -> LibraryBuild:
    compile_library(library_model(FINANCE / "library.yaml"), FINANCE, out)
    return LibraryBuild.from_directory(out)


def test_finance_common_build_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "finance-common"
    result = compile_library(library_model(FINANCE / "library.yaml"), FINANCE, out)
    assert sorted(p.name for p in out.iterdir()) == [
        "enums.js",
        "enums.py",
        "manifest.json",
        "styles.css",
    ]
    assert result.path == out
    assert result.digest == content_digest(out)
    text = (out / "manifest.json").read_text(encoding="utf-8")
    assert text.endswith("}\n") and '\n  "digest": ' in text
    assert result.manifest == {
        "kind": "library",
        "name": "finance-common",
        "version": "1.2.0",
        "title": "Finance common",
        "digest": result.digest,
        "static_entities": {
            "Category": [
                {"key": "Travel", "label": "Travel"},
                {"key": "Meals", "label": "Meals and entertainment"},
                {"key": "Office", "label": "Office supplies"},
                {"key": "Training", "label": "Training & books"},
            ],
            "PaymentMethod": [
                {"key": "Card", "label": "Company card"},
                {"key": "Cash", "label": "Cash"},
            ],
        },
        "libraries": [{"name": "money-formats", "version": "0.3.0"}],
        "styles": True,
    }
    assert (out / "styles.css").read_bytes() == (FINANCE / "theme.css").read_bytes()
    build = LibraryBuild.from_directory(out)
    assert build.digest == result.digest
    assert [r.label for r in build.static_entities["PaymentMethod"]] == ["Company card", "Cash"]


def test_library_without_styles(tmp_path: Path) -> None:
    result = compile_library(library_model(MONEY / "library.yaml"), MONEY, tmp_path / "m")
    assert result.manifest["styles"] is False
    assert result.manifest["libraries"] == []
    assert not (tmp_path / "m" / "styles.css").exists()


def test_enums_module_has_an_enum_per_static_entity(tmp_path: Path) -> None:
    compile_finance(tmp_path / "f")
    module = load_module(tmp_path / "f" / "enums.py", "finance_enums_under_test")
    assert issubclass(module.Category, enum.Enum)
    assert [m.value for m in module.Category] == ["Travel", "Meals", "Office", "Training"]
    assert module.Category["Meals"].value == "Meals"
    assert module.LABELS["Category"]["Training"] == "Training & books"
    assert module.LABELS["PaymentMethod"] == {"Card": "Company card", "Cash": "Cash"}


@needs_node
def test_enums_script_defines_frozen_objects(tmp_path: Path) -> None:
    compile_finance(tmp_path / "f")
    compile_library(library_model(MONEY / "library.yaml"), MONEY, tmp_path / "m")
    window = run_scripts(tmp_path / "m" / "enums.js", tmp_path / "f" / "enums.js")
    assert window["libs"]["finance-common"]["Category"]["Training"] == "Training & books"
    assert list(window["libs"]["finance-common"]["Category"]) == [
        "Travel",
        "Meals",
        "Office",
        "Training",
    ]
    assert window["libs"]["money-formats"]["Currency"]["GBP"] == "Pound sterling"
    assert window["frozen"] == {"finance-common": True, "money-formats": True}


def test_hostile_labels_round_trip_through_python_and_js(tmp_path: Path) -> None:
    model = library_model(HOSTILE_LIBRARY)
    assert model.static_entities[0].records[0].label == HOSTILE_LABEL
    compile_library(model, tmp_path, tmp_path / "odd")
    module = load_module(tmp_path / "odd" / "enums.py", "odd_enums_under_test")
    assert [m.value for m in module.Kind] == ["None", "class", "Plain_1"]
    assert module.LABELS["Kind"]["None"] == HOSTILE_LABEL
    assert module.LABELS["Kind"]["Plain_1"] == "a \\ b"
    script = (tmp_path / "odd" / "enums.js").read_text(encoding="utf-8")
    assert "</" not in script and "\u2028" not in script
    if NODE is not None:
        window = run_scripts(tmp_path / "odd" / "enums.js")
        assert window["libs"]["odd-labels"]["Kind"]["None"] == HOSTILE_LABEL


def test_compiling_twice_gives_identical_bytes(tmp_path: Path) -> None:
    first = compile_finance(tmp_path / "one")
    second = compile_finance(tmp_path / "two")
    assert first.digest == second.digest
    assert tree_bytes(tmp_path / "one") == tree_bytes(tmp_path / "two")


def test_output_must_be_absent_or_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    compile_finance(empty)
    assert (empty / "manifest.json").is_file()
    with pytest.raises(BuildError, match="absent or an empty directory"):
        compile_finance(empty)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


@pytest.mark.parametrize(
    ("styles", "expected"), [("missing.css", "found no file"), ("../outside.css", "outside")]
)
def test_styles_must_be_a_file_beside_the_model(tmp_path: Path, styles: str, expected: str) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (tmp_path / "outside.css").write_text("body {}")
    model = library_model(f"library: x1\nversion: 1.0.0\nstyles: {styles!r}\n")
    with pytest.raises(BuildError, match=expected):
        compile_library(model, source, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("entities", "expected"),
    [
        ("[{name: LABELS, records: [{key: A, label: a}]}]", "reserved"),
        ("[{name: Kind, records: [{key: mro, label: a}]}]", "'mro'"),
        ("[{name: Kind, records: [{key: A, label: a}, {key: A, label: b}]}]", "twice"),
    ],
)
def test_static_entities_python_cannot_hold_are_refused(
    tmp_path: Path, entities: str, expected: str
) -> None:
    model = library_model(f"library: x1\nversion: 1.0.0\nstatic_entities: {entities}\n")
    with pytest.raises(BuildError, match=expected):
        compile_library(model, tmp_path, tmp_path / "out")
