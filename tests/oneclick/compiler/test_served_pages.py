"""The compiled example app's web client, served for real: pages, scripts, styles, assets.

The browser checks at the end run only where Chromium is installed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from chromium_support import Browser, chromium, needs_chromium
from compiler_support import (
    Page,
    RunningApp,
    build_root,
    create_database,
    example_app,
    run_app,
)

from oneclick.compiler import schema_fingerprint

SCREENS = {
    "Expenses": ("expenses.html", "Expenses"),
    "EditExpense": ("edit-expense.html", "Edit expense"),
    "Employees": ("employees.html", "Employees"),
    "EditEmployee": ("edit-employee.html", "Edit employee"),
}
ICON = "/static/favicon.svg"
STYLESHEETS = ["/static/style.css", "/libs/finance-common/styles.css"]
SCRIPTS = [
    "/libs/money-formats/enums.js",
    "/libs/finance-common/enums.js",
    "/static/model.js",
    "/static/app.js",
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    model = example_app()
    root = build_root(tmp_path_factory.mktemp("image"), model)
    url = f"sqlite:///{root / 'stage.db'}"
    create_database(url, model, schema_fingerprint(model))
    with run_app(root, {"ONECLICK_DATABASE_URL": url}) as running:
        yield running


@pytest.fixture
def client(app: RunningApp) -> httpx.Client:
    return app.client


def html(client: httpx.Client, path: str) -> Page:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    return Page(response.text)


def test_index_links_every_screen(client: httpx.Client) -> None:
    index = html(client, "/")
    assert index.icons == [ICON]
    assert index.texts["title"] == ["Expense Tracker"]
    assert index.texts["h1"] == ["Expense Tracker"]
    assert index.links[0] == ("/", "Expense Tracker")
    expected = [(f"/static/screens/{page}", title) for page, title in SCREENS.values()]
    assert index.links[1:5] == expected  # the navigation bar
    assert index.links[5:] == expected  # the list on the page
    assert client.get("/static/index.html").text == client.get("/").text


@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_each_screen_page(client: httpx.Client, screen: str) -> None:
    page_name, title = SCREENS[screen]
    page = html(client, f"/static/screens/{page_name}")
    assert page.attributes["body"] == {"data-screen": screen}
    assert page.texts["title"] == [f"{title} · Expense Tracker"]
    assert page.texts["h1"] == [title]
    assert page.stylesheets == STYLESHEETS
    assert page.icons == [ICON]
    assert page.scripts == SCRIPTS
    assert [text for _, text in page.links[1:5]] == [t for _, t in SCREENS.values()]
    assert page.attributes["div"]["id"] == "screen"
    assert page.current == [f"/static/screens/{page_name}"]


@pytest.mark.parametrize(
    ("path", "content_type", "contains"),
    [
        ("/static/app.js", "text/javascript", "function renderForm"),
        ("/static/model.js", "text/javascript", "window.OneclickModel = {"),
        ("/static/style.css", "text/css", "--accent"),
        ("/libs/finance-common/enums.js", "text/javascript", '"Meals and entertainment"'),
        ("/libs/money-formats/enums.js", "text/javascript", '"Pound sterling"'),
        ("/libs/finance-common/styles.css", "text/css", "--accent: #1f6f5c"),
        ("/static/favicon.svg", "image/svg+xml", "<svg"),
        ("/favicon.ico", "image/svg+xml", "<svg"),
    ],
)
def test_assets(client: httpx.Client, path: str, content_type: str, contains: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] in (
        content_type,
        content_type.replace("text/", "application/"),
    )
    assert contains in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/libs/money-formats/styles.css",
        "/libs/finance-common/enums.py",
        "/libs/finance-common/manifest.json",
        "/libs/unknown/enums.js",
        "/static/nothing.js",
        "/static/%2e%2e/manifest.json",
        "/static/%2e%2e/server/spec.py",
        "/manifest.json",
    ],
)
def test_only_client_files_are_served(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404, path
    assert "error" in response.json()


def test_model_script_matches_the_server_spec(client: httpx.Client) -> None:
    script = client.get("/static/model.js").text
    literal = script.split("window.OneclickModel = ", 1)[1].rstrip().removesuffix(";")
    model = json.loads(literal)
    meta = client.get("/api/_meta").json()
    for key in ("app", "title", "version", "entities", "screens", "libraries"):
        assert model[key] == meta[key], key


ERROR_BOX = "document.querySelector('div.error')"


def shown_problems(browser: Browser) -> list[str]:
    """The items of the form's error box, once it shows some."""
    return list(
        browser.wait_for(
            f"!{ERROR_BOX}.hidden && "
            f"[...{ERROR_BOX}.querySelectorAll('li')].map(li => li.textContent)"
        )
    )


def fill_form(browser: Browser, script: str) -> None:
    """Run ``script`` with ``f`` the form, then submit it."""
    browser.evaluate(
        f"(() => {{ const f = document.querySelector('form'); {script}; f.requestSubmit(); "
        "return true; })()"
    )


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with chromium(tmp_path_factory.mktemp("profile")) as opened:
        yield opened


@needs_chromium
def test_browser_list_screen_shows_labels(
    app: RunningApp, client: httpx.Client, browser: Browser
) -> None:
    owner = client.post("/api/employee", json={"Name": "Ann Lee"}).json()
    body = {"Title": "Dinner", "Amount": "40", "Category": "Meals", "Owner": owner["Id"]}
    expense = client.post("/api/expense", json=body).json()
    browser.open(f"{app.url}/static/screens/expenses.html")
    row = browser.wait_for(
        f"[...document.querySelectorAll('tr[data-id=\"{expense['Id']}\"] td')]"
        ".map(td => td.textContent).join('|').includes('Ann Lee') && "
        f"[...document.querySelectorAll('tr[data-id=\"{expense['Id']}\"] td')]"
        ".map(td => td.textContent)"
    )
    assert row[:7] == ["Dinner", "40.00", "", "No", "Meals and entertainment", "Ann Lee", ""]
    links = browser.evaluate("[...document.querySelectorAll('.toolbar a')].map(a => a.href)")
    assert links == [f"{app.url}/static/screens/edit-expense.html"]


@needs_chromium
def test_browser_form_creates_edits_and_reports_errors(
    app: RunningApp, client: httpx.Client, browser: Browser
) -> None:
    owner = client.post("/api/employee", json={"Name": "Bo Form"}).json()
    form_url = f"{app.url}/static/screens/edit-expense.html"
    browser.open(form_url)
    kinds = browser.evaluate(
        "[...document.querySelectorAll('#screen [name]')].map(i => i.name + ':' + i.type)"
    )
    assert kinds == [
        "Title:text",
        "Amount:text",
        "SpentOn:date",
        "Approved:checkbox",
        "Category:select-one",
        "Owner:select-one",
        "Notes:textarea",
    ]

    def submit(title: str, amount: str) -> None:
        browser.evaluate(
            "(() => { const f = document.querySelector('form');"
            f"f.Title.value = {json.dumps(title)}; f.Amount.value = {json.dumps(amount)};"
            "f.SpentOn.value = '2024-06-01'; f.Approved.checked = true;"
            f"f.Category.value = 'Training'; f.Owner.value = '{owner['Id']}';"
            "f.requestSubmit(); return true; })()"
        )

    submit("", "19.90")
    assert shown_problems(browser) == ["Title: is mandatory; expected a value"]
    assert browser.evaluate("document.querySelector('[name=Title]').className") == "invalid"

    submit("Books", "1.234")
    browser.wait_for(f"{ERROR_BOX}.textContent.startsWith('Amount:')")
    assert browser.evaluate("document.querySelector('[name=Title]').className") == ""

    submit("Books", "19.90")
    browser.wait_for(f"location.href === '{app.url}/static/screens/expenses.html'")
    created = [
        e
        for e in client.get("/api/expense", params={"limit": 500}).json()["items"]
        if e["Title"] == "Books"
    ]
    assert created == [
        {
            "Id": created[0]["Id"],
            "Title": "Books",
            "Amount": "19.90",
            "SpentOn": "2024-06-01",
            "Approved": True,
            "Category": "Training",
            "Owner": owner["Id"],
            "Notes": None,
        }
    ]

    browser.open(f"{form_url}?id={created[0]['Id']}")
    values = browser.evaluate(
        "[...document.querySelectorAll('#screen [name]')]"
        ".map(i => i.type === 'checkbox' ? i.checked : i.value)"
    )
    assert values == ["Books", "19.90", "2024-06-01", True, "Training", str(owner["Id"]), ""]


@needs_chromium
def test_browser_delete_asks_and_reports_conflicts(
    app: RunningApp, client: httpx.Client, browser: Browser
) -> None:
    owner = client.post("/api/employee", json={"Name": "Cy Delete"}).json()
    client.post("/api/expense", json={"Title": "keeps Cy", "Owner": owner["Id"]})
    browser.open(f"{app.url}/static/screens/employees.html?offset=0")
    browser.evaluate("window.confirm = () => true; true")
    browser.evaluate(f"document.querySelector('tr[data-id=\"{owner['Id']}\"] .delete').click()")
    error = browser.wait_for(f"!{ERROR_BOX}.hidden && {ERROR_BOX}.textContent")
    assert error == (
        'Employee "Cy Delete" is still referred to by 1 Expense record through Owner '
        '("keeps Cy"); change or delete those first'
    )
    spare = client.post("/api/employee", json={"Name": "Spare"}).json()
    browser.open(f"{app.url}/static/screens/employees.html")
    browser.evaluate("window.confirm = () => true; true")
    browser.evaluate(f"document.querySelector('tr[data-id=\"{spare['Id']}\"] .delete').click()")
    browser.wait_for(f"!document.querySelector('tr[data-id=\"{spare['Id']}\"]')")
    assert client.get(f"/api/employee/{spare['Id']}").status_code == 404


@needs_chromium
def test_browser_form_heading_says_new_or_edit(
    app: RunningApp, client: httpx.Client, browser: Browser
) -> None:
    form_url = f"{app.url}/static/screens/edit-expense.html"
    heading = "[document.querySelector('main h1').textContent, document.title]"
    browser.open(form_url)
    assert browser.evaluate(heading) == ["New expense", "New expense · Expense Tracker"]
    assert browser.evaluate("document.querySelector('button[type=submit]').textContent") == "Create"
    expense = client.post("/api/expense", json={"Title": "Heading"}).json()
    browser.open(f"{form_url}?id={expense['Id']}")
    assert browser.evaluate(heading) == ["Edit expense", "Edit expense · Expense Tracker"]


@needs_chromium
def test_browser_form_marks_every_invalid_field_by_its_label(
    app: RunningApp, browser: Browser
) -> None:
    browser.open(f"{app.url}/static/screens/edit-expense.html")
    # a browser without date inputs sends what was typed
    fill_form(
        browser,
        "f.SpentOn.type = 'text'; f.SpentOn.value = '31/12/2024'; f.Amount.value = '1.234'",
    )
    assert shown_problems(browser) == [
        "Title: is mandatory; expected a value",
        "Amount: expected at most 2 digits after the decimal point, found '1.234'",
        "Spent on: expected a date like 2024-12-31, found '31/12/2024'",
    ]
    marked = "[...document.querySelectorAll('[aria-invalid=true]')].map(i => i.name)"
    assert browser.evaluate(marked) == ["Title", "Amount", "SpentOn"]
    assert browser.evaluate("document.activeElement.name") == "Title"


@needs_chromium
def test_browser_form_names_a_vanished_reference_by_its_label(
    app: RunningApp, client: httpx.Client, browser: Browser
) -> None:
    gone = client.post("/api/employee", json={"Name": "Gone Soon"}).json()
    browser.open(f"{app.url}/static/screens/edit-expense.html")
    assert client.delete(f"/api/employee/{gone['Id']}").status_code == 204
    fill_form(browser, f"f.Title.value = 'Orphan'; f.Owner.value = '{gone['Id']}'")
    problems = shown_problems(browser)
    assert problems == ['Owner: the employee "Gone Soon" no longer exists; choose another']


@needs_chromium
def test_browser_list_count_follows_deletes(
    app: RunningApp, client: httpx.Client, browser: Browser
) -> None:
    spare = client.post("/api/employee", json={"Name": "Counted"}).json()
    total = client.get("/api/employee").json()["total"]
    assert total < 50  # one page
    browser.open(f"{app.url}/static/screens/employees.html")
    count = "document.querySelector('.pager span').textContent"
    assert browser.evaluate(count) == f"Records 1\u2013{total} of {total}"
    browser.evaluate("window.confirm = () => true; true")
    browser.evaluate(f"document.querySelector('tr[data-id=\"{spare['Id']}\"] .delete').click()")
    expected = f"Records 1\u2013{total - 1} of {total - 1}"
    browser.wait_for(f"{count} === {json.dumps(expected)}")
    assert not browser.evaluate(f"!!document.querySelector('tr[data-id=\"{spare['Id']}\"]')")


PAGES = ["/", *(f"/static/screens/{page}" for page, _ in SCREENS.values())]


@needs_chromium
def test_browser_every_page_has_an_icon(app: RunningApp, browser: Browser) -> None:
    icon = (
        "(async () => { const link = document.querySelector('link[rel=icon]');"
        "const image = new Image(); image.src = link.href; await image.decode();"
        "const fallback = await fetch('/favicon.ico');"
        "return [link.getAttribute('href'), image.naturalWidth, fallback.status]; })()"
    )
    for path in PAGES:
        browser.open(f"{app.url}{path}")
        assert browser.evaluate(icon) == [ICON, 32, 200], path
    assert '/favicon.ico HTTP/1.1" 404' not in app.log_text()


@needs_chromium
def test_browser_library_theme_styles_every_page(app: RunningApp, browser: Browser) -> None:
    looks = (
        "[getComputedStyle(document.querySelector('.app-header')).backgroundColor,"
        "[...document.styleSheets].map(sheet => new URL(sheet.href).pathname)]"
    )
    for path in PAGES:
        browser.open(f"{app.url}{path}")
        # finance-common's theme.css sets the accent to #1f6f5c (the default is #2f5d8a)
        assert browser.evaluate(looks) == ["rgb(31, 111, 92)", STYLESHEETS], path


@needs_chromium
def test_browser_library_enumerations_fill_selects(app: RunningApp, browser: Browser) -> None:
    browser.open(f"{app.url}/static/screens/edit-expense.html")
    options = browser.evaluate(
        "[...document.querySelector('[name=Category]').options].map(o => [o.value, o.text])"
    )
    assert options == [
        ["", "—"],
        ["Travel", "Travel"],
        ["Meals", "Meals and entertainment"],
        ["Office", "Office supplies"],
        ["Training", "Training & books"],
    ]
    libraries = "Object.keys(window.OneclickLibs)"
    assert browser.evaluate(libraries) == ["money-formats", "finance-common"]
    assert browser.evaluate("window.OneclickLibs['money-formats'].Currency.GBP") == "Pound sterling"
