"""/healthz and /readyz of a served app: readiness follows the database's schema fingerprint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from compiler_support import (
    RunningApp,
    build_root,
    create_database,
    example_app,
    run_app,
    write_fingerprint,
)

from oneclick.compiler import schema_fingerprint

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

    wrong = "sha256:" + "0" * 64
    write_fingerprint(url, wrong)
    mismatch = client.get("/readyz")
    assert mismatch.status_code == 503
    expected = schema_fingerprint(example_app())
    assert mismatch.json()["reason"] == (
        f"the database schema is {wrong}, this build expects {expected}"
    )

    write_fingerprint(url, expected)
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "schema_fingerprint": expected}
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
