"""Bad library models: each one reports the right message at the right line and column."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from oneclick.errors import ModelError
from oneclick.model import MappingCatalog, load_library

CATALOG = MappingCatalog({("money-formats", "0.3.0"): {"Currency": ["EUR", "USD"]}})

BASE = """\
library: finance-common
version: 1.2.0
static_entities:
  - name: Category
    records:
      - {key: Travel, label: Travel}
"""
# Lines 1-6 above; cases that extend BASE start at line 7.


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    line: int
    column: int
    message: str


CASES = [
    Case(
        "duplicate-static-entity",
        BASE + "  - name: Category\n    records:\n      - {key: Meals, label: Meals}\n",
        7,
        11,
        "static entity 'Category' is declared twice (first at line 4); names must be unique: "
        "rename or remove one",
    ),
    Case(
        "duplicate-record-key",
        BASE + "      - {key: Travel, label: Trips}\n",
        7,
        15,
        "record key 'Travel' appears twice in static entity 'Category' (first at line 6); "
        "keys must be unique",
    ),
    Case(
        "styles-file-missing",
        BASE + "styles: theme.css\n",
        7,
        9,
        "styles file 'theme.css' does not exist beside the model (looked for ",
    ),
    Case(
        "styles-outside-the-directory",
        BASE + "styles: ../theme.css\n",
        7,
        9,
        "styles must name a file beside the model (such as theme.css), found '../theme.css'",
    ),
    Case(
        "library-lists-itself",
        BASE + "libraries:\n  - {name: finance-common, version: 1.2.0}\n",
        8,
        12,
        "library 'finance-common' lists itself under libraries:",
    ),
    Case(
        "dependency-not-published",
        BASE + "libraries:\n  - {name: money-format, version: 0.3.0}\n",
        8,
        12,
        "library 'money-format' is not published; publish it first",
    ),
    Case(
        "dependency-version-not-published",
        BASE + "libraries:\n  - {name: money-formats, version: 0.4.0}\n",
        8,
        36,
        "library 'money-formats' has no published version 0.4.0; published versions: 0.3.0",
    ),
    Case(
        "dependency-listed-twice",
        BASE
        + "libraries:\n  - {name: money-formats, version: 0.3.0}\n"
        + "  - {name: money-formats, version: 0.3.0}\n",
        9,
        12,
        "library 'money-formats' is declared twice (first at line 8)",
    ),
    Case(
        "missing-version",
        BASE.replace("version: 1.2.0\n", ""),
        1,
        1,
        "missing key 'version' in the library model; required keys: library, version",
    ),
    Case(
        "version-not-semantic",
        BASE.replace("version: 1.2.0", "version: '1.2'"),
        2,
        10,
        "library version '1.2' is not a semantic version: write MAJOR.MINOR.PATCH, e.g. 1.2.0",
    ),
    Case(
        "record-key-format",
        BASE.replace("key: Travel", "key: 2nd"),
        6,
        15,
        "record key '2nd' does not match [A-Za-z][A-Za-z0-9_]{0,62}: start with a letter, "
        "then letters, digits and '_'",
    ),
    Case(
        "record-without-label",
        BASE.replace("{key: Travel, label: Travel}", "{key: Travel}"),
        6,
        9,
        "missing key 'label' in record; required keys: key, label",
    ),
    Case(
        "unknown-top-level-key",
        BASE + "syles: theme.css\n",
        7,
        1,
        "unknown key 'syles' in the library model; expected one of: library, version, title, "
        "libraries, static_entities, styles (did you mean 'styles'?)",
    ),
    Case(
        "app-model-given-as-library",
        "app: expenses\nentities: []\n",
        1,
        1,
        "this is an app model (it has 'app:'), expected a library model with 'library:'; "
        "publish it as an app",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_library_model_is_reported_where_it_is(tmp_path: Path, case: Case) -> None:
    path = tmp_path / "library.yaml"
    path.write_text(case.text, encoding="utf-8")
    with pytest.raises(ModelError) as caught:
        load_library(path, CATALOG)
    found = [(p.line, p.column, p.message) for p in caught.value.problems]
    assert len(found) == 1, found
    ((line, column, message),) = found
    assert case.message in message, found
    assert (line, column) == (case.line, case.column), found
    assert caught.value.problems[0].file == str(path)


def test_a_library_with_several_problems_reports_them_all(tmp_path: Path) -> None:
    text = BASE + (
        "      - {key: Travel, label: Trips}\n"  # 7: duplicate key
        "  - name: category\n"  # 8: name format
        "    records: []\n"
        "libraries:\n"
        "  - {name: finance-common, version: 1.2.0}\n"  # 11: lists itself
        "styles: missing.css\n"  # 12: no such file
    )
    (tmp_path / "library.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ModelError) as caught:
        load_library(tmp_path, CATALOG)
    assert [(p.line, p.column) for p in caught.value.problems] == [
        (7, 15),
        (8, 11),
        (9, 14),
        (11, 12),
        (12, 9),
    ]
    assert str(caught.value).startswith("5 problems in the model:\n")


def test_styles_beside_the_model_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "library.yaml").write_text(BASE + "styles: theme.css\n", encoding="utf-8")
    (tmp_path / "theme.css").write_text(":root {}\n", encoding="utf-8")
    library = load_library(tmp_path, CATALOG)
    assert library.styles == "theme.css"
