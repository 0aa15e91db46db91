"""An app whose titles, labels and defaults are hostile text, served for real: every value
comes back exactly as written, and nothing of it is ever interpreted as HTML or script."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chromium_support import chromium, needs_chromium
from compiler_support import (
    HOSTILE_DEFAULT,
    HOSTILE_FORM_TITLE,
    HOSTILE_SCREEN_TITLE,
    HOSTILE_TEXT,
    Page,
    RunningApp,
    build_hostile_root,
    create_database,
    run_app,
)

from oneclick.compiler import schema_fingerprint


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    model, root = build_hostile_root(tmp_path_factory.mktemp("image"))
    url = f"sqlite:///{root / 'stage.db'}"
    create_database(url, model, schema_fingerprint(model))
    with run_app(root, {"ONECLICK_DATABASE_URL": url}) as running:
        yield running


def test_meta_returns_the_text_exactly(app: RunningApp) -> None:
    meta = app.client.get("/api/_meta").json()
    assert meta["title"] == HOSTILE_TEXT
    assert [s["title"] for s in meta["screens"]] == [HOSTILE_SCREEN_TITLE, HOSTILE_FORM_TITLE]
    assert meta["settings"] == {"Greeting": HOSTILE_DEFAULT}
    assert meta["static_entities"]["odd-labels"]["Kind"] == [
        {"key": "None", "label": HOSTILE_TEXT},
        {"key": "class", "label": "class"},
    ]


def test_records_keep_hostile_text_and_defaults(app: RunningApp) -> None:
    note = app.client.post("/api/note", json={"Text": HOSTILE_TEXT, "Kind": "None"})
    assert note.status_code == 201
    assert note.json()["Text"] == HOSTILE_TEXT
    defaulted = app.client.post("/api/note", json={"Kind": "class"}).json()
    assert defaulted["Text"] == HOSTILE_DEFAULT
    refused = app.client.post("/api/note", json={"Kind": "<script>"})
    assert refused.status_code == 400
    assert refused.json()["error"].endswith("found '<script>'")


def test_pages_show_the_text_as_text(app: RunningApp) -> None:
    for path in ("/", "/static/screens/notes.html", "/static/screens/edit-note.html"):
        raw = app.client.get(path).text
        assert "<script>alert" not in raw and "<b>" not in raw
    index = Page(app.client.get("/").text)
    assert index.texts["title"] == [HOSTILE_TEXT]
    notes = Page(app.client.get("/static/screens/notes.html").text)
    assert notes.texts["title"] == [f"{HOSTILE_SCREEN_TITLE} · {HOSTILE_TEXT}"]
    assert notes.texts["h1"] == [HOSTILE_SCREEN_TITLE]


@needs_chromium
def test_browser_renders_hostile_text_inertly(
    app: RunningApp, tmp_path_factory: pytest.TempPathFactory
) -> None:
    note = app.client.post("/api/note", json={"Text": HOSTILE_TEXT, "Kind": "None"}).json()
    with chromium(tmp_path_factory.mktemp("profile")) as browser:
        browser.run_on_every_page(
            "window.alerts = 0; window.alert = () => { window.alerts += 1; };"
        )
        browser.open(f"{app.url}/static/screens/notes.html")
        cells = browser.wait_for(
            f"[...document.querySelectorAll('tr[data-id=\"{note['Id']}\"] td')]"
            ".map(td => td.textContent)"
        )
        assert cells[:2] == [HOSTILE_TEXT, HOSTILE_TEXT]  # the text, and the Kind's label
        assert browser.evaluate("document.title") == f"{HOSTILE_SCREEN_TITLE} · {HOSTILE_TEXT}"
        assert browser.evaluate("document.querySelector('h1').textContent") == HOSTILE_SCREEN_TITLE
        assert browser.evaluate("document.querySelectorAll('b, main script').length") == 0
        browser.open(f"{app.url}/static/screens/edit-note.html?id={note['Id']}")
        assert browser.evaluate("document.querySelector('[name=Text]').value") == HOSTILE_TEXT
        options = browser.evaluate(
            "[...document.querySelector('[name=Kind]').options].map(o => o.textContent)"
        )
        assert options == ["—", HOSTILE_TEXT, "class"]
        assert browser.evaluate("window.alerts") == 0
