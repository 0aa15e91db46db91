"""The compiled example app, served for real: REST API, validation, settings and secrets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from compiler_support import (
    RunningApp,
    build_root,
    create_database,
    example_app,
    run_app,
)

from oneclick.compiler import schema_fingerprint

SECRET = "s3cr3t-value-that-must-never-be-seen"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    model = example_app()
    root = build_root(tmp_path_factory.mktemp("image"), model)
    url = f"sqlite:///{root / 'stage.db'}"
    create_database(url, model, schema_fingerprint(model))
    env = {
        "ONECLICK_DATABASE_URL": url,
        "ONECLICK_SETTING_ApprovalLimit": "250.00",
        "ONECLICK_SECRET_PaymentsApiKey": SECRET,
    }
    with run_app(root, env) as running:
        yield running


@pytest.fixture
def client(app: RunningApp) -> httpx.Client:
    return app.client


def create(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/{path}", json=body)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/api/{path}/{record['Id']}"
    return record


def total(client: httpx.Client, path: str) -> int:
    count: int = client.get(f"/api/{path}").json()["total"]
    return count


def test_health_and_readiness(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    fingerprint = schema_fingerprint(example_app())
    assert ready.json() == {"ready": True, "schema_fingerprint": fingerprint, "schema_fit": "exact"}


def test_employee_crud(client: httpx.Client) -> None:
    ann = create(client, "employee", {"Name": "Ann", "Email": "ann@example.com"})
    assert ann == {"Id": ann["Id"], "Name": "Ann", "Email": "ann@example.com"}
    assert client.get(f"/api/employee/{ann['Id']}").json() == ann
    assert ann in client.get("/api/employee", params={"limit": 500}).json()["items"]

    replaced = client.put(f"/api/employee/{ann['Id']}", json={"Name": "Ann B."})
    assert replaced.status_code == 200
    assert replaced.json() == {"Id": ann["Id"], "Name": "Ann B.", "Email": None}
    patched = client.patch(f"/api/employee/{ann['Id']}", json={"Email": "b@example.org"})
    assert patched.json() == {"Id": ann["Id"], "Name": "Ann B.", "Email": "b@example.org"}
    same_id = client.put(f"/api/employee/{ann['Id']}", json={"Id": ann["Id"], "Name": "Ann"})
    assert same_id.status_code == 200

    deleted = client.delete(f"/api/employee/{ann['Id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        body = {"Name": "x"} if method in ("PUT", "PATCH") else None
        gone = client.request(method, f"/api/employee/{ann['Id']}", json=body)
        assert gone.status_code == 404, method
        assert gone.json()["error"] == f"no Employee with Id {ann['Id']}"


def test_expense_crud_with_every_attribute_type(client: httpx.Client) -> None:
    owner = create(client, "employee", {"Name": "Bo"})
    body = {
        "Title": "Train to Lyon",
        "Amount": "86.5",
        "SpentOn": "2024-02-29",
        "Category": "Travel",
        "Owner": owner["Id"],
        "Notes": "return ticket",
    }
    expense = create(client, "expense", body)
    assert expense == {
        **body,
        "Id": expense["Id"],
        "Amount": "86.50",
        "Approved": False,  # the model's default, applied on create
    }
    update = {**body, "Amount": 12, "Approved": True, "Category": "Meals", "Owner": None}
    updated = client.put(f"/api/expense/{expense['Id']}", json=update)
    assert updated.status_code == 200, updated.text
    assert updated.json()["Amount"] == "12.00"
    assert updated.json()["Category"] == "Meals" and updated.json()["Owner"] is None
    full = client.put(f"/api/expense/{expense['Id']}", json={"Title": "Only a title"})
    assert full.json() == {
        "Id": expense["Id"],
        "Title": "Only a title",
        "Amount": None,
        "SpentOn": None,
        "Approved": None,
        "Category": None,
        "Owner": None,
        "Notes": None,
    }
    assert client.delete(f"/api/expense/{expense['Id']}").status_code == 204


def test_decimals_keep_their_digits(client: httpx.Client) -> None:
    expense = create(client, "expense", {"Title": "big", "Amount": "9999999999.99"})
    assert expense["Amount"] == "9999999999.99"
    from_number = create(client, "expense", {"Title": "float", "Amount": 0.1})
    assert from_number["Amount"] == "0.10"


def test_list_pages(client: httpx.Client) -> None:
    ids = [create(client, "employee", {"Name": f"Pager {n}"})["Id"] for n in range(3)]
    everything = client.get("/api/employee", params={"limit": 500}).json()
    assert everything["total"] == len(everything["items"]) >= 3
    position = [r["Id"] for r in everything["items"]].index(ids[0])
    page = client.get("/api/employee", params={"limit": 2, "offset": position}).json()
    assert [r["Id"] for r in page["items"]] == ids[:2]
    assert (page["limit"], page["offset"], page["total"]) == (2, position, everything["total"])
    assert client.get("/api/employee", params={"limit": 10**6}).json()["limit"] == 500
    assert client.get("/api/employee").json()["limit"] == 50


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit: expected a whole number of at least 1"),
        ("limit=ten", "limit: expected a whole number"),
        ("offset=-1", "offset: expected a whole number of at least 0"),
    ],
)
def test_list_bounds_are_checked(client: httpx.Client, query: str, message: str) -> None:
    response = client.get(f"/api/employee?{query}")
    assert response.status_code == 400
    assert response.json()["error"].startswith(message)


BAD_EXPENSES = [
    ({"Title": "x", "Colour": "red"}, "Colour", "Expense has no such attribute"),
    ({"Amount": "1"}, "Title", "is mandatory"),
    ({"Title": ""}, "Title", "is mandatory"),
    ({"Title": None}, "Title", "is mandatory"),
    ({"Title": "x" * 201}, "Title", "expected at most 200 characters, found 201"),
    ({"Title": 5}, "Title", "expected text"),
    ({"Title": "x", "Amount": "1.234"}, "Amount", "at most 2 digits after the decimal point"),
    ({"Title": "x", "Amount": "12345678901"}, "Amount", "at most 10 digits before"),
    ({"Title": "x", "Amount": "abc"}, "Amount", "expected a decimal number"),
    ({"Title": "x", "Amount": True}, "Amount", "expected a decimal number"),
    ({"Title": "x", "Amount": "NaN"}, "Amount", "expected a decimal number"),
    ({"Title": "x", "Approved": "yes"}, "Approved", "expected true or false"),
    ({"Title": "x", "SpentOn": "31/12/2024"}, "SpentOn", "expected a date like 2024-12-31"),
    ({"Title": "x", "SpentOn": "2023-02-29"}, "SpentOn", "expected a date"),
    (
        {"Title": "x", "Category": "Food"},
        "Category",
        "expected a key of finance-common.Category (Travel, Meals, Office, Training), found 'Food'",
    ),
    ({"Title": "x", "Category": "Card"}, "Category", "expected a key of"),
    ({"Title": "x", "Owner": 987654}, "Owner", "no Employee with Id 987654"),
    ({"Title": "x", "Owner": "abc"}, "Owner", "expected a whole number"),
    ({"Title": "x", "Owner": 1.5}, "Owner", "expected a whole number"),
    ({"Title": "x", "Id": 5}, "Id", "is assigned by the server"),
]


@pytest.mark.parametrize(("body", "attribute", "message"), BAD_EXPENSES)
def test_invalid_expenses_are_refused(
    client: httpx.Client, body: dict[str, Any], attribute: str, message: str
) -> None:
    before = total(client, "expense")
    response = client.post("/api/expense", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["attribute"] == attribute
    assert response.json()["error"].startswith(f"{attribute}: ")
    assert message in response.json()["error"]
    assert total(client, "expense") == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"Name": "x", "Email": "not-an-address"}, "Email: expected an email address"),
        ({"Name": "x", "Email": "a b@example.com"}, "Email: expected an email address"),
        ({"Name": "x", "Email": "a@" + "b" * 250 + ".com"}, "Email: expected at most 250"),
        ({"Name": "x" * 101}, "Name: expected at most 100 characters"),
    ],
)
def test_invalid_employees_are_refused(
    client: httpx.Client, body: dict[str, Any], message: str
) -> None:
    response = client.post("/api/employee", json=body)
    assert response.status_code == 400
    assert response.json()["error"].startswith(message)


def test_updates_are_validated_too(client: httpx.Client) -> None:
    expense = create(client, "expense", {"Title": "kept"})
    path = f"/api/expense/{expense['Id']}"
    assert client.put(path, json={"Amount": "1"}).json()["attribute"] == "Title"
    assert client.patch(path, json={"Owner": 123456}).json()["error"] == (
        "Owner: no Employee with Id 123456"
    )
    moved = client.put(path, json={"Id": expense["Id"] + 1, "Title": "kept"})
    assert moved.status_code == 400 and moved.json()["attribute"] == "Id"
    assert client.get(path).json() == expense


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"{not json", 400, "expected a JSON object"),
        (b"[1, 2]", 400, "expected a JSON object with the attributes of Expense"),
        (b'{"Title": "x", "Amount": NaN}', 400, "expected a JSON object"),
        (b'{"Title": "' + b"x" * 1_000_001 + b'"}', 413, "at most 1000000 bytes"),
    ],
)
def test_malformed_bodies(client: httpx.Client, content: bytes, status: int, message: str) -> None:
    response = client.post(
        "/api/expense", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == status
    assert message in response.json()["error"]


def test_unknown_paths_and_methods(client: httpx.Client) -> None:
    missing = client.get("/api/nothing-here")
    assert (
        missing.status_code == 404 and missing.json()["error"] == "no entity at /api/nothing-here"
    )
    assert client.get("/api/expense/abc").status_code == 404
    assert client.get("/api/expense/\u0663").status_code == 404
    assert client.get("/api/expense?limit=\u0663").status_code == 400
    assert client.get("/api/expense/99999999999999").status_code == 404
    not_allowed = client.post("/api/expense/1", json={})
    assert not_allowed.status_code == 405 and "error" in not_allowed.json()


def test_deleting_a_referenced_record_conflicts(client: httpx.Client) -> None:
    owner = create(client, "employee", {"Name": "Cy"})
    expenses = [create(client, "expense", {"Title": f"t{n}", "Owner": owner["Id"]}) for n in (1, 2)]
    refused = client.delete(f"/api/employee/{owner['Id']}")
    assert refused.status_code == 409
    assert refused.json()["error"] == (
        'Employee "Cy" is still referred to by 2 Expense records through Owner ("t1", "t2"); '
        "change or delete those first"
    )
    assert client.get(f"/api/employee/{owner['Id']}").status_code == 200
    for expense in expenses:
        assert client.delete(f"/api/expense/{expense['Id']}").status_code == 204
    assert client.delete(f"/api/employee/{owner['Id']}").status_code == 204


def test_meta_describes_the_app_with_settings_from_the_environment(client: httpx.Client) -> None:
    meta = client.get("/api/_meta").json()
    assert (meta["app"], meta["title"], meta["version"]) == ("expenses", "Expense Tracker", "1.0.0")
    assert meta["settings"] == {"CurrencySymbol": "€", "ApprovalLimit": "250.00"}
    assert [e["name"] for e in meta["entities"]] == ["Expense", "Employee"]
    assert [s["name"] for s in meta["screens"]] == [
        "Expenses",
        "EditExpense",
        "Employees",
        "EditEmployee",
    ]
    assert meta["static_entities"]["finance-common"]["PaymentMethod"] == [
        {"key": "Card", "label": "Company card"},
        {"key": "Cash", "label": "Cash"},
    ]
    assert [r["key"] for r in meta["static_entities"]["money-formats"]["Currency"]] == [
        "EUR",
        "USD",
        "GBP",
    ]
    assert "secrets" not in meta


def test_secrets_never_leave_the_process(app: RunningApp, client: httpx.Client) -> None:
    create(client, "employee", {"Name": "Di"})
    paths = [
        "/",
        "/healthz",
        "/readyz",
        "/api/_meta",
        "/api/employee",
        "/api/expense",
        "/static/model.js",
        "/static/app.js",
        "/static/screens/expenses.html",
        "/api/nothing",
    ]
    for path in paths:
        response = client.get(path)
        assert SECRET not in response.text, path
        assert SECRET not in str(response.headers), path
    assert SECRET not in app.log_text()
    assert "PaymentsApiKey" in app.log_text()  # its name may be logged; its value never


def test_every_invalid_attribute_is_reported_at_once(client: httpx.Client) -> None:
    body = {"Title": "", "Amount": "1.234", "SpentOn": "31/12/2024", "Owner": 987654}
    response = client.post("/api/expense", json=body)
    assert response.status_code == 400
    assert response.json() == {
        "error": "Title: is mandatory; expected a value (also invalid: Amount, SpentOn)",
        "attribute": "Title",
        "problems": [
            {"attribute": "Title", "message": "is mandatory; expected a value"},
            {
                "attribute": "Amount",
                "message": "expected at most 2 digits after the decimal point, found '1.234'",
            },
            {
                "attribute": "SpentOn",
                "message": "expected a date like 2024-12-31, found '31/12/2024'",
            },
        ],
    }
    missing = client.post("/api/expense", json={"Title": "x", "Owner": 987654}).json()
    assert missing["problems"] == [
        {"attribute": "Owner", "message": "no Employee with Id 987654", "missing": 987654}
    ]


def test_conflicts_name_the_first_referrers_by_label(client: httpx.Client) -> None:
    owner = create(client, "employee", {"Name": "Di"})
    for title in ("a", "b", "c", "d"):
        create(client, "expense", {"Title": title, "Owner": owner["Id"]})
    refused = client.delete(f"/api/employee/{owner['Id']}").json()["error"]
    assert refused == (
        'Employee "Di" is still referred to by 4 Expense records through Owner '
        '("a", "b", "c", ...); change or delete those first'
    )
