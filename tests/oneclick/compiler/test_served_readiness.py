"""/healthz and /readyz of a served app: ready when the live schema satisfies the build.

The recorded fingerprint equal to the build's is ready at once; another one is ready when
every table and column the build uses is there, wide enough (a later release added or
widened, or retired what this build no longer has); a database whose schema scripts have
not run yet is not. Databases get their schemas from the data tool, release by release.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from compiler_support import (
    RunningApp,
    apply_release,
    build_root,
    create_database,
    example_app,
    execute,
    reset_database,
    run_app,
    write_fingerprint,
)

from oneclick.compiler import schema_fingerprint
from oneclick.model.types import AppModel
from tests.oneclick.data.local_postgres import LocalPostgres

SETTINGS = {"ONECLICK_SETTING_ApprovalLimit": "500"}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_root(tmp_path_factory.mktemp("image"), example_app())


@pytest.fixture(scope="module")
def app(root: Path) -> Iterator[tuple[RunningApp, str]]:
    url = f"sqlite:///{root / 'stage.db'}"
    create_database(url, example_app(), fingerprint=None)
    with run_app(root, {"ONECLICK_DATABASE_URL": url, **SETTINGS}) as running:
        yield running, url


def test_readiness_follows_the_fingerprint_row(app: tuple[RunningApp, str]) -> None:
    running, url = app
    client = running.client
    assert client.get("/healthz").status_code == 200

    missing = client.get("/readyz")
    assert missing.status_code == 503
    assert missing.json() == {
        "ready": False,
        "reason": "the database has no schema fingerprint: the schema was never applied",
    }

    other = "sha256:" + "0" * 64
    write_fingerprint(url, other)
    compatible = client.get("/readyz")
    assert compatible.status_code == 200
    assert compatible.json() == {
        "ready": True,
        "schema_fingerprint": other,
        "schema_fit": "compatible",
    }

    expected = schema_fingerprint(example_app())
    write_fingerprint(url, expected)
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "schema_fingerprint": expected, "schema_fit": "exact"}
    assert client.get("/healthz").status_code == 200


def test_without_a_database_the_app_is_up_but_not_ready(root: Path) -> None:
    with run_app(root, SETTINGS) as running:
        assert running.client.get("/healthz").status_code == 200
        ready = running.client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["reason"] == "ONECLICK_DATABASE_URL is not set"
        api = running.client.get("/api/expense")
        assert api.status_code == 503
        assert "ONECLICK_DATABASE_URL is not set" in api.json()["error"]


def test_an_unreachable_database_is_not_ready(root: Path) -> None:
    url = f"sqlite:///{root / 'no-such-directory' / 'stage.db'}"
    with run_app(root, {"ONECLICK_DATABASE_URL": url, **SETTINGS}) as running:
        ready = running.client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["reason"] == "the database did not answer (OperationalError)"
        assert "no-such-directory" not in running.log_text()


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        (
            {"ONECLICK_SETTING_ApprovalLimit": "lots"},
            "setting ApprovalLimit: expected a decimal in ONECLICK_SETTING_ApprovalLimit, "
            "found 'lots'",
        ),
        (
            {},
            "setting ApprovalLimit: no value in ONECLICK_SETTING_ApprovalLimit and no default",
        ),
    ],
)
def test_a_wrong_or_missing_setting_keeps_the_app_from_being_ready(
    root: Path, settings: dict[str, str], reason: str
) -> None:
    url = f"sqlite:///{root / 'settings.db'}"
    if not (root / "settings.db").exists():
        create_database(url, example_app(), schema_fingerprint(example_app()))
    with run_app(root, {"ONECLICK_DATABASE_URL": url, **settings}) as running:
        assert running.client.get("/healthz").status_code == 200
        ready = running.client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"ready": False, "reason": reason}
        assert reason in running.log_text()
        assert running.client.get("/api/expense").status_code == 200


# The ledger app (no libraries, no settings) and releases before and after it. Every edit
# gives its own fingerprint, and no two cases give one fingerprint two schemas: the served
# app keeps its verdict per recorded fingerprint for its whole life.
LEDGER: dict[str, Any] = {
    "app": "ledger",
    "version": "1.0.0",
    "entities": [
        {
            "name": "Expense",
            "attributes": [
                {"name": "Title", "type": "text", "length": 200, "mandatory": True},
                {"name": "Amount", "type": "decimal", "precision": 12, "scale": 2},
                {"name": "Quantity", "type": "integer"},
                {"name": "SpentOn", "type": "date"},
                {"name": "Approved", "type": "boolean"},
                {"name": "Owner", "type": "Employee"},
                {"name": "Notes", "type": "text", "length": 2000},
            ],
        },
        {
            "name": "Employee",
            "attributes": [{"name": "Name", "type": "text", "length": 100, "mandatory": True}],
        },
    ],
}
Edit = Callable[[dict[str, Any]], object]


def ledger(*edits: Edit, version: str = "1.0.0") -> AppModel:
    """The ledger app with ``edits`` applied to a copy of its model."""
    spec = copy.deepcopy(LEDGER)
    for edit in edits:
        edit(spec)
    return AppModel.model_validate({**spec, "version": version})


def expense(spec: dict[str, Any]) -> dict[str, Any]:
    entity: dict[str, Any] = spec["entities"][0]
    return entity


def attribute(spec: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(a for a in expense(spec)["attributes"] if a["name"] == name)
    return found


def drop(name: str) -> Edit:
    return lambda spec: expense(spec)["attributes"].remove(attribute(spec, name))


def change(name: str, **fields: Any) -> Edit:
    return lambda spec: attribute(spec, name).update(fields)


def add(name: str, **fields: Any) -> Edit:
    return lambda spec: expense(spec)["attributes"].append({"name": name, **fields})


def add_trips(spec: dict[str, Any]) -> None:
    spec["entities"].append(
        {"name": "Trip", "attributes": [{"name": "Destination", "type": "text"}]}
    )


def drop_employees(spec: dict[str, Any]) -> None:
    drop("Owner")(spec)
    spec["entities"].pop()


LATER: dict[str, list[Edit]] = {
    "an added table": [add_trips],
    "an added column": [add("Receipt", type="text", length=500)],
    "a widened text": [change("Title", length=300)],
    "a widened decimal": [change("Amount", precision=16, scale=4)],
    "an integer made long": [change("Quantity", type="long")],
    "an integer made decimal": [change("Quantity", type="decimal", precision=12, scale=2)],
    "a date made datetime": [change("SpentOn", type="datetime")],
    "a retired column": [drop("Notes")],
    "only an added index": [lambda spec: expense(spec).update(indexes=[{"attributes": ["Title"]}])],
    "all of them at once": [
        add_trips,
        add("Reference", type="text", length=40),
        change("Title", length=400),
        change("Amount", precision=20, scale=6),
        change("Quantity", type="long"),
        change("SpentOn", type="datetime"),
        drop("Approved"),
    ],
}
EARLIER: dict[str, tuple[list[Edit], str]] = {
    "a missing table": (
        [drop_employees],
        "table expense has no column owner; the database has no table employee",
    ),
    "a missing column": ([drop("Quantity")], "table expense has no column quantity"),
    "a narrower text": (
        [change("Title", length=100)],
        "column expense.title is VARCHAR(100), this build writes text(200)",
    ),
    "a narrower decimal scale": (
        [change("Amount", scale=1)],
        "column expense.amount is NUMERIC(12, 1), this build writes decimal(12, 2)",
    ),
    "fewer digits before the point": (
        [change("Amount", precision=11)],
        "column expense.amount is NUMERIC(11, 2), this build writes decimal(12, 2)",
    ),
    "another type": (
        [change("Approved", type="text", length=5)],
        "column expense.approved is VARCHAR(5), this build writes boolean",
    ),
    "many problems": (
        [drop("Title"), drop("Amount"), drop("SpentOn"), drop("Notes")],
        "table expense has no column title; table expense has no column amount; "
        "table expense has no column spent_on; and 1 more",
    ),
}
NOT_FITTING = "the database schema does not fit this build: "


@pytest.fixture(scope="module")
def ledger_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_root(tmp_path_factory.mktemp("ledger"), ledger(), [])


@pytest.fixture(scope="module")
def ledger_app(ledger_root: Path) -> Iterator[tuple[RunningApp, str]]:
    url = f"sqlite:///{ledger_root / 'stage.db'}"
    apply_release(url, ledger())
    with run_app(ledger_root, {"ONECLICK_DATABASE_URL": url}) as running:
        yield running, url


def readiness(running: RunningApp) -> tuple[int, dict[str, Any]]:
    response = running.client.get("/readyz")
    body: dict[str, Any] = response.json()
    return response.status_code, body


def compatible(model: AppModel) -> tuple[int, dict[str, Any]]:
    body = {"ready": True, "schema_fingerprint": schema_fingerprint(model)}
    return 200, {**body, "schema_fit": "compatible"}


def not_fitting(reason: str) -> tuple[int, dict[str, Any]]:
    return 503, {"ready": False, "reason": NOT_FITTING + reason}


@pytest.mark.parametrize("case", LATER)
def test_the_previous_release_stays_ready_after_a_later_one(
    ledger_app: tuple[RunningApp, str], case: str
) -> None:
    running, url = ledger_app
    reset_database(url)
    apply_release(url, ledger())
    assert readiness(running)[1]["schema_fit"] == "exact"
    later = ledger(*LATER[case], version="1.1.0")
    apply_release(url, later)
    assert readiness(running) == compatible(later)


@pytest.mark.parametrize("case", EARLIER)
def test_a_release_is_not_ready_before_its_schema_is_there(
    ledger_app: tuple[RunningApp, str], case: str
) -> None:
    running, url = ledger_app
    edits, reason = EARLIER[case]
    reset_database(url)
    apply_release(url, ledger(*edits, version="0.9.0"))
    assert readiness(running) == not_fitting(reason)
    assert reason in running.log_text(), "the verdict is logged, with its reasons"


def test_the_exact_fingerprint_is_ready_without_looking_at_the_schema(
    ledger_app: tuple[RunningApp, str],
) -> None:
    running, url = ledger_app
    reset_database(url)
    apply_release(url, ledger())
    execute(url, "ALTER TABLE expense DROP COLUMN notes")
    assert readiness(running) == (
        200,
        {"ready": True, "schema_fingerprint": schema_fingerprint(ledger()), "schema_fit": "exact"},
    )


def test_the_verdict_is_kept_until_the_fingerprint_changes(
    ledger_app: tuple[RunningApp, str],
) -> None:
    running, url = ledger_app
    reset_database(url)
    apply_release(url, ledger())
    first, second, third = ("sha256:" + digit * 64 for digit in "123")
    write_fingerprint(url, first)
    assert readiness(running)[0] == 200

    execute(url, "ALTER TABLE expense DROP COLUMN amount")
    assert readiness(running) == (
        200,
        {"ready": True, "schema_fingerprint": first, "schema_fit": "compatible"},
    ), "the schema changed by hand, its fingerprint did not: the verdict is kept"

    write_fingerprint(url, second)
    assert readiness(running) == not_fitting("table expense has no column amount")

    execute(url, "ALTER TABLE expense ADD COLUMN amount NUMERIC(12, 2)")
    assert readiness(running) == not_fitting("table expense has no column amount")

    write_fingerprint(url, third)
    assert readiness(running) == (
        200,
        {"ready": True, "schema_fingerprint": third, "schema_fit": "compatible"},
    )
    for _probe in range(3):
        assert readiness(running)[0] == 200
    assert running.log_text().count(f"schema {third} fits this build") == 1, "judged once"


def test_a_rollout_keeps_the_previous_release_ready_and_waits_for_the_next(
    ledger_root: Path, tmp_path: Path
) -> None:
    """Two releases on one database, as during a rolling update: the schema scripts of the
    next one make it ready and leave the previous one ready."""
    nxt = ledger(
        add("Receipt", type="text", length=500), change("Title", length=250), version="1.1.0"
    )
    next_root = build_root(tmp_path / "next", nxt, [])
    url = f"sqlite:///{tmp_path / 'stage.db'}"
    apply_release(url, ledger())
    env = {"ONECLICK_DATABASE_URL": url}
    with run_app(ledger_root, env) as previous, run_app(next_root, env) as following:
        assert readiness(previous)[1]["schema_fit"] == "exact"
        assert readiness(following) == not_fitting(
            "column expense.title is VARCHAR(200), this build writes text(250); "
            "table expense has no column receipt"
        )
        apply_release(url, nxt)
        assert readiness(previous) == compatible(nxt)
        assert readiness(following)[1]["schema_fit"] == "exact"
        created = previous.client.post("/api/expense", json={"Title": "Taxi", "Amount": "12.5"})
        assert created.status_code == 201, created.text
        listed = following.client.get("/api/expense").json()["items"]
        assert [(e["Title"], e["Receipt"]) for e in listed] == [("Taxi", None)]


def test_readiness_on_postgresql(ledger_root: Path, postgres: LocalPostgres) -> None:
    url = postgres.create_database()
    try:
        later = ledger(*LATER["all of them at once"], version="1.1.0")
        apply_release(url, ledger())
        apply_release(url, later)
        with run_app(ledger_root, {"ONECLICK_DATABASE_URL": url}) as running:
            assert readiness(running) == compatible(later)
            reset_database(url)
            apply_release(url, ledger(change("Title", length=100), change("Amount", scale=1)))
            assert readiness(running) == not_fitting(
                "column expense.title is VARCHAR(100), this build writes text(200); "
                "column expense.amount is NUMERIC(12, 1), this build writes decimal(12, 2)"
            )
    finally:
        postgres.drop_database(url)
