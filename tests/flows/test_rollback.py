"""rollback_app: a stage back to the release it ran before, its data kept."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from flows.publish_app import publish_app
from flows.rollback_app import rollback_app
from oneclick.errors import CatalogError
from oneclick.home import Home
from oneclick.releases import Catalog
from tests.support import EXAMPLES, latest_artifact

SETTINGS = {"expenses": {"ApprovalLimit": "10"}}


def with_phone(tmp_path: Path) -> Path:
    """The example app with a new attribute, Employee.Phone: a second release."""
    app = tmp_path / "expenses"
    shutil.copytree(EXAMPLES / "expenses", app)
    model = (app / "app.yaml").read_text()
    email = "      - {name: Email, type: email}\n"
    assert email in model
    phone = "      - {name: Phone, type: text, length: 30}\n"
    (app / "app.yaml").write_text(model.replace(email, email + phone))
    return app


def employees(url: str) -> list[dict[str, object]]:
    response = httpx.get(f"{url}/api/employee")
    response.raise_for_status()
    return sorted(response.json()["items"], key=lambda e: str(e["Name"]))


def test_a_rollback_runs_the_earlier_image_and_keeps_what_the_newer_release_stored(
    published_libraries: Path, stage_block: Callable[..., str], tmp_path: Path
) -> None:
    stage = stage_block("rollback-dev", order=60, settings=SETTINGS)
    first = publish_app(str(EXAMPLES / "expenses"), stage)
    httpx.post(f"{first.url}/api/employee", json={"Name": "Ann"}).raise_for_status()
    second = publish_app(str(with_phone(tmp_path)), stage)
    assert second.version != first.version
    httpx.post(
        f"{second.url}/api/employee", json={"Name": "Bea", "Phone": "555-0100"}
    ).raise_for_status()

    back = rollback_app("expenses", stage)
    assert (back.version, back.image_digest) == (first.version, first.image_digest)
    assert any("phone" in change.lower() for change in back.schema_changes), back.schema_changes
    assert [e["Name"] for e in employees(back.url)] == ["Ann", "Bea"]
    plan = latest_artifact("expenses-rollback-dev-schema-plan")
    assert f"Schema plan: expenses {first.version} on rollback-dev" in plan
    assert "| retire" in plan.lower() and "phone" in plan
    # the earlier release can write again: the column it does not know is no longer required
    httpx.post(f"{back.url}/api/employee", json={"Name": "Cal"}).raise_for_status()
    current = Catalog(Home.from_env().catalog_url).current("expenses", stage)
    assert current is not None and current.version == first.version

    # forward again: the value the newer release stored is still there
    again = rollback_app("expenses", stage, to=second.version)
    assert again.image_digest == second.image_digest
    phones = {e["Name"]: e.get("Phone") for e in employees(again.url)}
    assert phones == {"Ann": None, "Bea": "555-0100", "Cal": None}


def test_a_rollback_with_nothing_earlier_says_what_to_do(
    published_libraries: Path, stage_block: Callable[..., str]
) -> None:
    stage = stage_block("rollback-once", order=61, settings=SETTINGS)
    with pytest.raises(CatalogError, match="nothing to roll back"):
        rollback_app("expenses", stage)
    first = publish_app(str(EXAMPLES / "expenses"), stage)
    with pytest.raises(CatalogError, match=r"only one release on 'rollback-once'.*--to VERSION"):
        rollback_app("expenses", stage)
    with pytest.raises(CatalogError, match="'0000' of expenses matches no release"):
        rollback_app("expenses", stage, to="0000")
    assert httpx.get(f"{first.url}/readyz").status_code == 200
