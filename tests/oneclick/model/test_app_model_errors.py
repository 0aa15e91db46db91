"""Bad app models: each one reports the right message at the right line and column."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from oneclick.errors import ModelError, Problem
from oneclick.model import MappingCatalog, load_app

CATALOG = MappingCatalog(
    {
        ("finance-common", "1.1.0"): {"Category": ["Travel", "Meals"]},
        ("finance-common", "1.2.0"): {
            "Category": ["Travel", "Meals"],
            "PaymentMethod": ["Card", "Cash"],
        },
        ("money-formats", "0.3.0"): {"Currency": ["EUR", "USD"]},
    }
)

BASE = """\
app: demo
entities:
  - name: Item
    attributes:
      - {name: Title, type: text}
"""
# Lines 1-5 above; cases that extend BASE start at line 6.

WITH_LIBRARY = """\
app: demo
libraries:
  - {name: finance-common, version: 1.2.0}
entities:
  - name: Item
    attributes:
"""
# Lines 1-6 above; the attribute under test is on line 7.


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    line: int
    column: int
    message: str
    only: bool = True


CASES = [
    Case(
        "tab-indentation",
        "app: demo\nentities:\n\t- name: Item\n",
        3,
        1,
        "YAML syntax error: found character '\\t' that cannot start any token"
        " (while scanning for the next token); indent with spaces, not tabs",
    ),
    Case(
        "duplicate-key",
        "app: demo\napp: other\n",
        2,
        1,
        "duplicate key 'app' (first at line 1, column 1); each key may appear once in a "
        "mapping: remove one",
    ),
    Case(
        "empty-file",
        "# nothing here yet\n",
        1,
        1,
        "the file is empty; expected a mapping such as 'app: NAME' with entities: ...",
    ),
    Case(
        "top-level-list",
        "- app: demo\n",
        1,
        1,
        "expected a mapping (key: value lines) at the top level, found a list",
    ),
    Case(
        "two-documents",
        "app: demo\n---\napp: other\n",
        2,
        1,
        "keep one document per file (remove the '---' separator)",
    ),
    Case(
        "unknown-key-in-attribute",
        BASE.replace("type: text}", "type: text, lenght: 20}"),
        5,
        35,
        "unknown key 'lenght' in attribute; expected one of: name, type, length, precision, "
        "scale, mandatory, default, renamed_from (did you mean 'length'?)",
    ),
    Case(
        "unknown-top-level-key",
        BASE + "screns: []\n",
        6,
        1,
        "unknown key 'screns' in the app model; expected one of: app, title, version, "
        "libraries, entities, screens, settings, secrets (did you mean 'screens'?)",
    ),
    Case(
        "app-name-format",
        BASE.replace("app: demo", "app: Expenses"),
        1,
        6,
        "app name 'Expenses' does not match [a-z][a-z0-9-]{1,39}: use lower case letters, "
        "digits and '-', starting with a letter (2-40 long) (did you mean 'expenses'?)",
    ),
    Case(
        "entity-name-format",
        BASE.replace("name: Item", "name: line_item"),
        3,
        11,
        "entity name 'line_item' does not match [A-Z][A-Za-z0-9]{0,62}: use PascalCase: an "
        "upper case letter first, then letters and digits (did you mean 'LineItem'?)",
    ),
    Case(
        "missing-attribute-type",
        BASE.replace("{name: Title, type: text}", "{name: Title}"),
        5,
        9,
        "missing key 'type' in attribute; required keys: name, type",
    ),
    Case(
        "screen-kind-not-allowed",
        BASE + "screens:\n  - {name: Items, kind: table, entity: Item}\n",
        7,
        25,
        "screen kind 'table' is not one of: list, form",
    ),
    Case(
        "version-as-number",
        BASE.replace("app: demo\n", "app: demo\nversion: 1.0\n"),
        2,
        10,
        "app version: expected text, found the number 1.0; put it in quotes",
    ),
    Case(
        "entity-without-attributes",
        "app: demo\nentities:\n  - name: Item\n    attributes: []\n",
        4,
        17,
        "entity attributes: expected at least 1 item, found none",
    ),
    Case(
        "entity-not-a-mapping",
        "app: demo\nentities:\n  - Item\n",
        3,
        5,
        "expected a mapping (key: value pairs) for each entity, found the text 'Item'",
    ),
    Case(
        "duplicate-entity",
        BASE + "  - name: Item\n    attributes:\n      - {name: Other, type: text}\n",
        6,
        11,
        "entity 'Item' is declared twice (first at line 3); names must be unique: rename or "
        "remove one",
    ),
    Case(
        "duplicate-attribute",
        BASE + "      - {name: Title, type: integer}\n",
        6,
        16,
        "attribute 'Title' is declared twice (first at line 5); names must be unique: rename "
        "or remove one",
    ),
    Case(
        "attribute-named-id",
        BASE + "      - {name: Id, type: integer}\n",
        6,
        16,
        "attribute 'Id' collides with the automatic 'Id' every entity has; choose another name",
    ),
    Case(
        "unknown-basic-type",
        BASE.replace("type: text", "type: integr"),
        5,
        29,
        "unknown type 'integr' for attribute 'Title'; expected a basic type (text, integer, "
        "long, decimal, boolean, date, datetime, email, phone), an entity of this app (Item) "
        "or <library>.<StaticEntity> (did you mean 'integer'?)",
    ),
    Case(
        "reference-to-missing-entity",
        BASE
        + "      - {name: Owner, type: Employe}\n"
        + "  - name: Employee\n    attributes:\n      - {name: Name, type: text}\n",
        6,
        29,
        "unknown type 'Employe' for attribute 'Owner'; expected a basic type (text, integer, "
        "long, decimal, boolean, date, datetime, email, phone), an entity of this app "
        "(Employee, Item) or <library>.<StaticEntity> (did you mean 'Employee'?)",
    ),
    Case(
        "library-not-listed",
        BASE + "      - {name: Category, type: finance-common.Category}\n",
        6,
        32,
        "type 'finance-common.Category' uses library 'finance-common', which is not listed "
        "under libraries:; add {name: finance-common, version: ...} there",
    ),
    Case(
        "library-without-that-static-entity",
        WITH_LIBRARY + "      - {name: Category, type: finance-common.Categry}\n",
        7,
        32,
        "library 'finance-common' 1.2.0 has no static entity 'Categry'; it has: Category, "
        "PaymentMethod (did you mean 'Category'?)",
    ),
    Case(
        "library-not-published",
        BASE.replace("app: demo\n", "app: demo\nlibraries:\n  - {name: payroll, version: 1.0.0}\n"),
        3,
        12,
        "library 'payroll' is not published; publish it first (oneclick publish library PATH) "
        "or correct the name",
    ),
    Case(
        "library-version-not-published",
        WITH_LIBRARY.replace("1.2.0", "1.3.0") + "      - {name: Title, type: text}\n",
        3,
        37,
        "library 'finance-common' has no published version 1.3.0; published versions: 1.1.0, 1.2.0",
    ),
    Case(
        "library-range-matches-nothing",
        WITH_LIBRARY.replace("1.2.0", "^2.0.0") + "      - {name: Title, type: text}\n",
        3,
        37,
        "library 'finance-common' has no published version matching ^2.0.0; published "
        "versions: 1.1.0, 1.2.0",
    ),
    Case(
        "library-range-malformed",
        WITH_LIBRARY.replace("1.2.0", '">=1.2"') + "      - {name: Title, type: text}\n",
        3,
        37,
        "library 'finance-common' version '>=1.2' is neither a semantic version nor a range: "
        "write an exact version (1.2.0), a caret range (^1.2.0: any 1.x.y from 1.2.0 on) or "
        "a tilde range (~1.2: any 1.2.x)",
    ),
    Case(
        "library-version-partial",
        WITH_LIBRARY.replace("1.2.0", '"1.2"') + "      - {name: Title, type: text}\n",
        3,
        37,
        "library 'finance-common' version '1.2' is not a full version: write 1.2.0 for "
        "exactly that version, or ~1.2 (any 1.2.x) or ^1.2 for a range",
    ),
    Case(
        "library-range-resolves-to-an-older-version",
        WITH_LIBRARY.replace("1.2.0", "~1.1")
        + "      - {name: Pay, type: finance-common.PaymentMethod}\n",
        7,
        27,
        "library 'finance-common' 1.1.0 has no static entity 'PaymentMethod'; it has: Category",
    ),
    Case(
        "library-listed-twice",
        WITH_LIBRARY.replace(
            "libraries:\n", "libraries:\n  - {name: finance-common, version: 1.1.0}\n"
        )
        + "      - {name: Title, type: text}\n",
        4,
        12,
        "library 'finance-common' is declared twice (first at line 3); names must be unique",
    ),
    Case(
        "length-on-integer",
        BASE + "      - {name: Count, type: integer, length: 5}\n",
        6,
        38,
        "length applies only to text attributes, and 'Count' is integer; remove length",
    ),
    Case(
        "precision-on-text",
        BASE.replace("type: text}", "type: text, precision: 4}"),
        5,
        35,
        "precision applies only to decimal attributes, and 'Title' is text; remove precision",
    ),
    Case(
        "scale-above-precision",
        BASE + "      - {name: Price, type: decimal, precision: 4, scale: 6}\n",
        6,
        59,
        "scale 6 is larger than precision 4; the scale counts the digits after the point and "
        "must be at most the precision",
    ),
    Case(
        "negative-length",
        BASE.replace("type: text}", "type: text, length: 0}"),
        5,
        43,
        "attribute length must be at least 1, found the number 0",
    ),
    Case(
        "integer-default-not-a-number",
        BASE + "      - {name: Count, type: integer, default: abc}\n",
        6,
        47,
        "default of attribute 'Count' (integer): expected a whole number between -2147483648 "
        "and 2147483647, found 'abc'",
    ),
    Case(
        "date-default-not-iso",
        BASE + "      - {name: Due, type: date, default: 31/01/2024}\n",
        6,
        42,
        "default of attribute 'Due' (date): expected an ISO date such as 2024-01-31, found "
        "'31/01/2024'",
    ),
    Case(
        "impossible-date-default",
        BASE + "      - {name: Due, type: date, default: 2024-02-30}\n",
        6,
        42,
        "default of attribute 'Due' (date): expected an ISO date such as 2024-01-31, found "
        "'2024-02-30'",
    ),
    Case(
        "text-default-longer-than-length",
        BASE + "      - {name: Code, type: text, length: 3, default: ABCD}\n",
        6,
        54,
        "default of attribute 'Code' (text): expected text of at most 3 characters (the "
        "length), not 4, found 'ABCD'",
    ),
    Case(
        "text-default-longer-than-default-length",
        BASE + f"      - {{name: Code, type: text, default: {'x' * 51}}}\n",
        6,
        43,
        "expected text of at most 50 characters (the length), not 51",
    ),
    Case(
        "static-default-not-a-record",
        WITH_LIBRARY + "      - {name: Category, type: finance-common.Category, default: Hotel}\n",
        7,
        66,
        "default of attribute 'Category' (finance-common.Category): expected one of the record "
        "keys: Travel, Meals, found 'Hotel'",
    ),
    Case(
        "default-is-a-list",
        BASE.replace("type: text}", "type: text, default: [a, b]}"),
        5,
        44,
        "attribute default: expected a single value (text, a number or true/false), found a list",
    ),
    Case(
        "setting-default-wrong-type",
        BASE + 'settings:\n  - {name: Enabled, type: boolean, default: "yes"}\n',
        7,
        45,
        "default of setting 'Enabled' (boolean): expected true or false, found 'yes'",
    ),
    Case(
        "setting-unknown-type",
        BASE + "settings:\n  - {name: Limit, type: money}\n",
        7,
        25,
        "setting type 'money' is not one of: text, integer, long, decimal, boolean, date, "
        "datetime, email",
    ),
    Case(
        "screen-on-unknown-entity",
        BASE + "screens:\n  - {name: Items, kind: list, entity: Iten}\n",
        7,
        39,
        "screen 'Items' shows entity 'Iten', which this app does not declare; entities: Item "
        "(did you mean 'Item'?)",
    ),
    Case(
        "duplicate-screen",
        BASE
        + "screens:\n  - {name: Items, kind: list, entity: Item}\n"
        + "  - {name: Items, kind: form, entity: Item}\n",
        8,
        12,
        "screen 'Items' is declared twice (first at line 7)",
    ),
    Case(
        "index-on-unknown-attribute",
        BASE + "    indexes:\n      - {attributes: [Titel]}\n",
        7,
        23,
        "index on unknown attribute 'Titel' of entity 'Item'; its attributes: Title "
        "(did you mean 'Title'?)",
    ),
    Case(
        "index-attribute-not-text",
        BASE + "    indexes:\n      - {attributes: [1]}\n",
        7,
        23,
        "an item of index attributes: expected text, found the number 1; put it in quotes",
    ),
    Case(
        "mandatory-not-boolean",
        BASE.replace("type: text}", 'type: text, mandatory: "yes"}'),
        5,
        46,
        "attribute mandatory: expected true or false, found the text 'yes'",
    ),
    Case(
        "secret-and-setting-same-name",
        BASE + "settings:\n  - {name: ApiKey, type: text}\nsecrets:\n  - {name: ApiKey}\n",
        9,
        12,
        "secret 'ApiKey' has the same name as a setting (line 7); settings and secrets share "
        "the environment: rename one",
    ),
    Case(
        "duplicate-secret",
        BASE + "secrets:\n  - {name: ApiKey}\n  - name: ApiKey\n",
        8,
        11,
        "secret 'ApiKey' is declared twice (first at line 7)",
    ),
    Case(
        "renamed-from-still-exists",
        BASE + "      - {name: Notes, type: text, renamed_from: Title}\n",
        6,
        49,
        "attribute 'Notes' is renamed from 'Title', which still exists in entity 'Item'; "
        "remove renamed_from or the old attribute",
    ),
    Case(
        "default-on-entity-reference",
        BASE + "      - {name: Parent, type: Item, default: 1}\n",
        6,
        45,
        "a reference to an entity cannot have a default",
    ),
    Case(
        "merge-key",
        "app: demo\nentities:\n  - name: Item\n    attributes:\n"
        "      - &t {name: Title, type: text}\n      - {<<: *t, name: Other}\n",
        6,
        10,
        "merge keys ('<<') are not supported; write the keys out",
        only=False,
    ),
    Case(
        "custom-tag",
        BASE.replace("app: demo", "app: !env demo"),
        1,
        6,
        "the tag !env is not supported; remove it",
    ),
    Case(
        "library-model-given-as-app",
        "title: Finance\nlibrary: finance-common\nversion: 1.2.0\n",
        2,
        1,
        "this is a library model (it has 'library:'), expected an app model with 'app:'; "
        "publish it as a library",
    ),
]


def problems_of(tmp_path: Path, text: str) -> list[Problem]:
    path = tmp_path / "app.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ModelError) as caught:
        load_app(tmp_path, CATALOG)
    assert all(problem.file == str(path) for problem in caught.value.problems)
    return caught.value.problems


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_app_model_is_reported_where_it_is(tmp_path: Path, case: Case) -> None:
    problems = problems_of(tmp_path, case.text)
    found = [(p.line, p.column, p.message) for p in problems]
    if case.only:
        assert len(problems) == 1, found
    matching = [p for p in problems if case.message in p.message]
    assert matching, found
    assert (matching[0].line, matching[0].column) == (case.line, case.column), found


def test_a_range_bundles_the_newest_published_match(tmp_path: Path) -> None:
    text = WITH_LIBRARY.replace("1.2.0", "^1.1.0") + (
        "      - {name: Pay, type: finance-common.PaymentMethod, default: Card}\n"
    )
    (tmp_path / "app.yaml").write_text(text, encoding="utf-8")
    model = load_app(tmp_path, CATALOG)  # PaymentMethod exists only in 1.2.0
    assert model.libraries[0].version == "^1.1.0"


def test_cases_are_distinct() -> None:
    assert len({case.text for case in CASES}) == len(CASES) >= 25


def test_every_problem_of_a_model_is_reported_together(tmp_path: Path) -> None:
    text = """\
app: Expenses
version: 1.0
libraries:
  - {name: finance-common, version: 1.3.0}
entities:
  - name: Expense
    attributes:
      - {name: Title, type: text, lenght: 200}
      - {name: Amount, type: decimal, precision: 2, scale: 4}
      - {name: Owner, type: Employe}
      - {name: Id, type: integer}
      - {name: bad, type: text}
    indexes:
      - {attributes: [Amount, Missing, bad]}
  - name: broken
    attributes: [{name: X, type: text}]
screens:
  - {name: Expenses, kind: table, entity: Expense}
  - {name: Others, kind: list, entity: Expens}
  - {name: Broken, kind: list, entity: Broken}
settings:
  - {name: Limit, type: integer, default: "abc"}
secrets:
  - {name: Limit}
"""
    problems = problems_of(tmp_path, text)
    assert [(p.line, p.column) for p in problems] == [
        (1, 6),  # app name
        (2, 10),  # version is a number
        (4, 37),  # library version not published
        (8, 35),  # unknown key
        (9, 60),  # scale above precision
        (10, 29),  # unknown entity type
        (11, 16),  # Id collision
        (12, 16),  # attribute name format
        (14, 31),  # index on unknown attribute (the badly named one is not reported)
        (15, 11),  # entity name format
        (18, 28),  # screen kind
        (19, 40),  # screen on unknown entity
        (20, 40),  # no entity 'Broken' either: that one is named 'broken'
        (22, 43),  # setting default
        (24, 12),  # secret named like a setting
    ]
    assert str(problems[0]) == (
        f"{tmp_path / 'app.yaml'}:1:6: app name 'Expenses' does not match [a-z][a-z0-9-]{{1,39}}"
        ": use lower case letters, digits and '-', starting with a letter (2-40 long) "
        "(did you mean 'expenses'?)"
    )


def test_missing_file_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        load_app(tmp_path / "nowhere.yaml", CATALOG)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.column) == (str(tmp_path / "nowhere.yaml"), 1, 1)
    assert "no such file" in problem.message


def test_a_library_directory_given_as_an_app_says_so(tmp_path: Path) -> None:
    (tmp_path / "library.yaml").write_text("library: x\nversion: 1.0.0\n", encoding="utf-8")
    with pytest.raises(ModelError) as caught:
        load_app(tmp_path, CATALOG)
    (problem,) = caught.value.problems
    assert problem.file == str(tmp_path / "app.yaml")
    assert problem.message == (
        "no such file; this directory holds library.yaml, which is a library: publish it as one"
    )


def test_file_name_is_the_path_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "app.yaml").write_text("app: Shop\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError) as caught:
        load_app(Path("shop/app.yaml"), CATALOG)
    assert str(caught.value).splitlines()[1].startswith("  shop/app.yaml:1:6: app name 'Shop'")


def test_names_left_out_for_their_own_problems_are_not_reported_again(tmp_path: Path) -> None:
    text = """\
app: demo
entities:
  - name: Item
    attributes:
      - {name: Title, type: text}
      - {name: Owner, type: Employee}
      - {name: Code, typ: text}
    indexes:
      - {attributes: [Code]}
  - name: Employee
    attributes: []
screens:
  - {name: Employees, kind: list, entity: Employee}
"""
    problems = problems_of(tmp_path, text)
    assert [(p.line, p.column, p.message) for p in problems] == [
        (7, 9, "missing key 'type' in attribute; required keys: name, type"),
        (
            7,
            22,
            "unknown key 'typ' in attribute; expected one of: name, type, length, precision, "
            "scale, mandatory, default, renamed_from (did you mean 'type'?)",
        ),
        (11, 17, "entity attributes: expected at least 1 item, found none"),
    ]


def test_an_entity_emptied_by_its_bad_attributes_is_not_reported_missing(tmp_path: Path) -> None:
    text = BASE + (
        "      - {name: Owner, type: Employee}\n"
        "  - name: Employee\n"
        "    attributes:\n"
        "      - {name: Name, typ: text}\n"
        "screens:\n"
        "  - {name: Employees, kind: list, entity: Employee}\n"
    )
    problems = problems_of(tmp_path, text)
    assert [(p.line, p.column) for p in problems] == [(9, 9), (9, 22)]
    assert problems[0].message.startswith("missing key 'type' in attribute")
