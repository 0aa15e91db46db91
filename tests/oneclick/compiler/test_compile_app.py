"""compile_app: the app build's files, manifest, determinism, checks and escaping."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from compiler_support import (
    HOSTILE_DEFAULT,
    HOSTILE_FORM_TITLE,
    HOSTILE_SCREEN_TITLE,
    HOSTILE_TEXT,
    NODE,
    Page,
    app_model,
    build_hostile_root,
    compile_example_libraries,
    example_app,
    library_model,
    load_module,
    needs_node,
    run_scripts,
    tree_bytes,
)

import oneclick.compiler
from oneclick.compiler import compile_app, compile_library, content_digest, schema_fingerprint
from oneclick.compiler.app import RUNTIME_SUFFIXES
from oneclick.errors import BuildError
from oneclick.libraries.build import LibraryBuild

RUNTIME = Path(oneclick.compiler.__file__).parent / "runtime"
EXPECTED_FILES = [
    "manifest.json",
    "server/__init__.py",
    "server/config.py",
    "server/main.py",
    "server/models.py",
    "server/runtime.py",
    "server/schema_fit.py",
    "server/spec.py",
    "server/store.py",
    "server/values.py",
    "static/app.js",
    "static/favicon.svg",
    "static/index.html",
    "static/model.js",
    "static/screens/edit-employee.html",
    "static/screens/edit-expense.html",
    "static/screens/employees.html",
    "static/screens/expenses.html",
    "static/style.css",
]


@pytest.fixture(scope="module")
def libraries(tmp_path_factory: pytest.TempPathFactory) -> list[LibraryBuild]:
    return compile_example_libraries(tmp_path_factory.mktemp("libs"))


def test_example_build_files_and_manifest(tmp_path: Path, libraries: list[LibraryBuild]) -> None:
    model = example_app()
    result = compile_app(model, libraries, tmp_path / "app")
    assert sorted(tree_bytes(tmp_path / "app")) == EXPECTED_FILES
    assert result.digest == content_digest(tmp_path / "app")
    finance, money = sorted(libraries, key=lambda b: b.name)
    assert result.manifest == {
        "kind": "app",
        "app": "expenses",
        "version": "1.0.0",
        "title": "Expense Tracker",
        "digest": result.digest,
        "libraries": [
            {"name": "finance-common", "version": "1.2.0", "digest": finance.digest},
            {"name": "money-formats", "version": "0.3.0", "digest": money.digest},
        ],
        "schema_fingerprint": schema_fingerprint(model),
        "settings": [
            {"name": "CurrencySymbol", "type": "text", "default": "€"},
            {"name": "ApprovalLimit", "type": "decimal", "default": None},
        ],
        "secrets": ["PaymentsApiKey"],
        "entities": ["Expense", "Employee"],
        "screens": ["Expenses", "EditExpense", "Employees", "EditEmployee"],
    }
    for part in ("server", "static"):
        for template in (RUNTIME / part).iterdir():
            if template.suffix in RUNTIME_SUFFIXES:
                built = tmp_path / "app" / part / template.name
                assert built.read_bytes() == template.read_bytes(), template.name


def test_compiling_twice_gives_identical_bytes(
    tmp_path: Path, libraries: list[LibraryBuild]
) -> None:
    first = compile_app(example_app(), libraries, tmp_path / "one")
    second = compile_app(example_app(), list(reversed(libraries)), tmp_path / "two")
    assert first.digest == second.digest
    assert first.manifest == second.manifest
    assert tree_bytes(tmp_path / "one") == tree_bytes(tmp_path / "two")


def test_generated_spec_describes_entities_and_screens(
    tmp_path: Path, libraries: list[LibraryBuild]
) -> None:
    compile_app(example_app(), libraries, tmp_path / "app")
    spec = load_module(tmp_path / "app" / "server" / "spec.py", "expenses_spec").SPEC
    expense = spec["entities"][0]
    assert expense["title"] == "Expense"
    assert [a["title"] for a in expense["attributes"]] == [
        "Title",
        "Amount",
        "Spent on",
        "Approved",
        "Category",
        "Owner",
        "Notes",
    ]
    assert (expense["name"], expense["table"], expense["path"], expense["label"]) == (
        "Expense",
        "expense",
        "expense",
        "Title",
    )
    by_name = {a["name"]: a for a in expense["attributes"]}
    assert by_name["Amount"]["precision"] == 12 and by_name["Amount"]["scale"] == 2
    assert by_name["Category"]["type"] == "static"
    assert by_name["Category"]["library"] == "finance-common"
    assert by_name["Owner"] == {**by_name["Owner"], "type": "reference", "entity": "Employee"}
    assert by_name["Approved"]["default"] is False
    assert [s["page"] for s in spec["screens"]] == [
        "expenses.html",
        "edit-expense.html",
        "employees.html",
        "edit-employee.html",
    ]
    assert spec["secrets"] == ["PaymentsApiKey"]
    assert [(lib["name"], lib["styles"]) for lib in spec["libraries"]] == [
        ("money-formats", False),
        ("finance-common", True),
    ]


def test_library_stylesheets_follow_the_libraries_they_bundle(tmp_path: Path) -> None:
    # "a-brand" bundles "z-base"; by name it would come first and lose to the base's rules
    sources = {
        "z-base": "library: z-base\nversion: 1.0.0\nstyles: theme.css\n",
        "a-brand": (
            "library: a-brand\nversion: 2.0.0\nstyles: theme.css\n"
            "libraries: [{name: z-base, version: 1.0.0}]\n"
        ),
    }
    builds = []
    for name, text in sources.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "theme.css").write_text(f":root {{ --accent: {name}; }}\n")
        result = compile_library(library_model(text), tmp_path / name, tmp_path / "libs" / name)
        builds.append(LibraryBuild.from_directory(result.path))
    model = app_model(
        "app: branded\nlibraries: [{name: a-brand, version: 2.0.0}]\n"
        "entities: [{name: Thing, attributes: [{name: Size, type: long}]}]\n"
        "screens: [{name: Things, kind: list, entity: Thing}]\n"
    )
    for order, out in ((builds, "one"), (list(reversed(builds)), "two")):
        static = compile_app(model, order, tmp_path / out).path / "static"
        for page in (static / "index.html", static / "screens" / "things.html"):
            stylesheets = Page(page.read_text(encoding="utf-8")).stylesheets
            assert stylesheets == [
                "/static/style.css",
                "/libs/z-base/styles.css",
                "/libs/a-brand/styles.css",
            ]


@needs_node
def test_client_scripts_parse_and_carry_the_model(
    tmp_path: Path, libraries: list[LibraryBuild]
) -> None:
    compile_app(example_app(), libraries, tmp_path / "app")
    static = tmp_path / "app" / "static"
    assert NODE is not None
    for script in ("app.js", "model.js"):
        subprocess.run([NODE, "--check", str(static / script)], check=True, timeout=30)
    window = run_scripts(static / "model.js")
    assert window["model"]["title"] == "Expense Tracker"
    assert "secrets" not in window["model"]
    assert [e["name"] for e in window["model"]["entities"]] == ["Expense", "Employee"]


def test_hostile_text_is_escaped_everywhere(tmp_path: Path) -> None:
    _, root = build_hostile_root(tmp_path)
    server = root / "app" / "server"
    spec = load_module(server / "spec.py", "hostile_spec").SPEC
    assert spec["title"] == HOSTILE_TEXT
    assert [s["title"] for s in spec["screens"]] == [HOSTILE_SCREEN_TITLE, HOSTILE_FORM_TITLE]
    assert spec["settings"][0]["default"] == HOSTILE_DEFAULT
    assert spec["entities"][0]["attributes"][0]["default"] == HOSTILE_DEFAULT
    models = load_module(server / "models.py", "hostile_models")
    assert models.TABLES["Note"].c.text.default.arg == HOSTILE_DEFAULT
    manifest_default = (root / "app" / "manifest.json").read_text(encoding="utf-8")
    assert "</script>" in manifest_default  # JSON data, never served as a page

    static = root / "app" / "static"
    model_js = (static / "model.js").read_text(encoding="utf-8")
    assert "</" not in model_js and "\u2028" not in model_js
    if NODE is not None:
        client = run_scripts(root / "libs" / "odd-labels" / "enums.js", static / "model.js")
        assert client["model"]["title"] == HOSTILE_TEXT
        assert client["model"]["screens"][1]["title"] == HOSTILE_FORM_TITLE
        assert client["libs"]["odd-labels"]["Kind"]["None"] == HOSTILE_TEXT

    index_html = (static / "index.html").read_text(encoding="utf-8")
    assert "<script>alert" not in index_html and "<b>x" not in index_html
    index = Page(index_html)
    assert index.texts["title"] == [HOSTILE_TEXT]
    assert index.texts["h1"] == [HOSTILE_TEXT]
    assert [text for _, text in index.links[1:3]] == [HOSTILE_SCREEN_TITLE, HOSTILE_FORM_TITLE]
    form = Page((static / "screens" / "edit-note.html").read_text(encoding="utf-8"))
    assert form.texts["h1"] == [HOSTILE_FORM_TITLE]
    assert form.attributes["body"] == {"data-screen": "EditNote"}
    assert form.attributes["a"]["href"] == "/"


def test_library_builds_must_cover_the_model(tmp_path: Path, libraries: list[LibraryBuild]) -> None:
    model = example_app()
    with pytest.raises(BuildError, match=r"finance-common 1\.2\.0, found no build"):
        compile_app(model, [b for b in libraries if b.name != "finance-common"], tmp_path / "a")
    other = [b.model_copy(update={"version": "1.3.0"}) for b in libraries]
    with pytest.raises(BuildError, match=r"found version 1\.3\.0"):
        compile_app(model, other, tmp_path / "b")
    with pytest.raises(BuildError, match="given twice"):
        compile_app(model, [*libraries, libraries[0]], tmp_path / "c")
    text = (Path(__file__).parents[3] / "examples/expenses/app.yaml").read_text()
    missing = app_model(text.replace("finance-common.Category", "finance-common.Colour"))
    with pytest.raises(BuildError, match=r"Expense\.Category: expected static entity Colour"):
        compile_app(missing, libraries, tmp_path / "d")
    assert not any((tmp_path / name).exists() for name in "abcd")


def test_screens_with_clashing_pages_are_refused(tmp_path: Path) -> None:
    model = app_model(
        "app: x1\nentities: [{name: A, attributes: [{name: B, type: text}]}]\n"
        "screens: [{name: AB, kind: list, entity: A}, {name: Ab, kind: form, entity: A}]\n"
    )
    with pytest.raises(BuildError, match=r"both be served as ab\.html"):
        compile_app(model, [], tmp_path / "out")


def test_output_must_be_absent_or_empty(tmp_path: Path, libraries: list[LibraryBuild]) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "old.txt").write_text("old")
    with pytest.raises(BuildError, match="absent or an empty directory"):
        compile_app(example_app(), libraries, tmp_path / "app")
    assert [p.name for p in (tmp_path / "app").iterdir()] == ["old.txt"]


def test_an_app_without_libraries_or_screens(tmp_path: Path) -> None:
    model = app_model(
        "app: bare\nentities: [{name: Thing, attributes: [{name: Size, type: long}]}]"
    )
    result = compile_app(model, [], tmp_path / "app")
    assert result.manifest["libraries"] == []
    assert result.manifest["title"] == "bare"
    index = Page((tmp_path / "app" / "static" / "index.html").read_text(encoding="utf-8"))
    assert index.links == [("/", "bare")]
    assert index.scripts == ["/static/model.js", "/static/app.js"]
    spec = load_module(tmp_path / "app" / "server" / "spec.py", "bare_spec").SPEC
    assert spec["entities"][0]["label"] is None
