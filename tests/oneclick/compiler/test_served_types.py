"""A compiled app with every attribute type, served for real: integers, longs, phones,
datetimes, defaults, self references, unique indexes, SQL keywords as names, typed settings."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from compiler_support import (
    RunningApp,
    all_types_app,
    build_root,
    create_database,
    money_formats,
    run_app,
)

from oneclick.compiler import schema_fingerprint

CODES = itertools.count()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    model = all_types_app()
    root = build_root(tmp_path_factory.mktemp("image"), model, [money_formats()])
    url = f"sqlite:///{root / 'stage.db'}"
    create_database(url, model, schema_fingerprint(model))
    env = {
        "ONECLICK_DATABASE_URL": url,
        "ONECLICK_SETTING_MaxQuantity": " 7 ",
        "ONECLICK_SETTING_Rate": "0.25",
        "ONECLICK_SETTING_Contact": "not an address",
        "ONECLICK_SETTING_Open": "no",
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
    return record


def warehouse(client: httpx.Client, code: str, **extra: Any) -> dict[str, Any]:
    return create(client, "warehouse", {"Code": code, **extra})


def test_every_type_round_trips_and_defaults_apply(client: httpx.Client) -> None:
    home = warehouse(client, "HOME", Phone="+49 (30) 1234-567", Capacity=2**40)
    assert home == {
        "Id": home["Id"],
        "Code": "HOME",
        "Phone": "+49 (30) 1234-567",
        "Capacity": 2**40,
        "Parent": None,
    }
    order = create(client, "order", {"From": home["Id"], "PlacedAt": "2024-05-01T10:30:00+02:00"})
    assert order == {
        "Id": order["Id"],
        "Quantity": 1,
        "Price": "9.9500",
        "Currency": "EUR",
        "PlacedAt": "2024-05-01T08:30:00",
        "DueOn": "2030-01-01",
        "Rush": None,
        "Contact": None,
        "From": home["Id"],
    }
    changed = client.put(
        f"/api/order/{order['Id']}",
        json={"Quantity": "12", "From": home["Id"], "Rush": False, "Currency": "GBP"},
    )
    assert changed.status_code == 200
    assert changed.json()["Quantity"] == 12 and changed.json()["Price"] is None
    listed = client.get("/api/order").json()["items"]
    assert changed.json() in listed


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"Quantity": 2**31}, "Quantity: expected a whole number from -2147483648 to 2147483647"),
        ({"Quantity": 1.5}, "Quantity: expected a whole number"),
        ({"Quantity": True}, "Quantity: expected a whole number"),
        ({"Quantity": "12 apples"}, "Quantity: expected a whole number"),
        ({"Quantity": None}, "Quantity: is mandatory"),
        ({"Price": "123456789012345"}, "Price: expected at most 14 digits before"),
        ({"Price": "1.23456"}, "Price: expected at most 4 digits after"),
        ({"Currency": "XYZ"}, "Currency: expected a key of money-formats.Currency (EUR, USD, GBP)"),
        ({"PlacedAt": "yesterday"}, "PlacedAt: expected a date and time"),
        ({"DueOn": "2024-13-01"}, "DueOn: expected a date"),
        ({"Contact": "x@y"}, "Contact: expected an email address"),
        ({"From": None}, "From: is mandatory"),
    ],
)
def test_invalid_orders_are_refused(
    client: httpx.Client, body: dict[str, Any], message: str
) -> None:
    home = warehouse(client, f"W-{next(CODES)}")
    response = client.post("/api/order", json={"From": home["Id"], **body})
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(message)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"Capacity": 2**63}, "Capacity: expected a whole number from"),
        ({"Phone": "call me"}, "Phone: expected a phone number"),
        ({"Phone": "12"}, "Phone: expected a phone number"),
        ({"Phone": "+1 234 567 890 123 456"}, "Phone: expected at most 20 characters"),
        ({"Parent": 0}, "Parent: expected a whole number from 1"),
    ],
)
def test_invalid_warehouses_are_refused(
    client: httpx.Client, body: dict[str, Any], message: str
) -> None:
    response = client.post("/api/warehouse", json={"Code": "bad", **body})
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(message)


def test_self_references(client: httpx.Client) -> None:
    parent = warehouse(client, "PARENT")
    selfish = client.patch(f"/api/warehouse/{parent['Id']}", json={"Parent": parent["Id"]})
    assert selfish.json()["Parent"] == parent["Id"]
    child = warehouse(client, "CHILD", Parent=parent["Id"])
    refused = client.delete(f"/api/warehouse/{parent['Id']}")
    assert refused.status_code == 409
    assert refused.json()["error"] == (
        'Warehouse "PARENT" is still referred to by 1 Warehouse record through Parent '
        '("CHILD"); change or delete those first'
    )
    assert client.delete(f"/api/warehouse/{child['Id']}").status_code == 204
    assert client.delete(f"/api/warehouse/{parent['Id']}").status_code == 204


def test_records_without_a_label_are_named_by_id(client: httpx.Client) -> None:
    home = warehouse(client, "LABELLED")
    order = client.post("/api/order", json={"From": home["Id"]}).json()
    refused = client.delete(f"/api/warehouse/{home['Id']}").json()["error"]
    assert refused.startswith(
        f'Warehouse "LABELLED" is still referred to by 1 Order record through From (#{order["Id"]})'
    )


def test_unique_index_conflicts(client: httpx.Client) -> None:
    warehouse(client, "UNIQUE")
    clash = client.post("/api/warehouse", json={"Code": "UNIQUE"})
    assert clash.status_code == 409
    assert "unique index" in clash.json()["error"]


def test_typed_settings_from_environment_and_defaults(app: RunningApp) -> None:
    settings = app.client.get("/api/_meta").json()["settings"]
    assert settings == {
        "MaxQuantity": 7,
        "Open": False,
        "Launch": "2030-01-01",
        "Rate": "0.25",
        "Contact": None,
    }
    problem = (
        "setting Contact: expected an email in ONECLICK_SETTING_Contact, found 'not an address'"
    )
    assert problem in app.log_text()
    ready = app.client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["reason"] == problem
