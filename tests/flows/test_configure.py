"""apply_configuration: a stage's release rolled again with the stage's current settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from flows.configure_app import apply_configuration
from flows.publish_app import publish_app
from oneclick.errors import CatalogError
from tests.support import EXAMPLES


def test_a_settings_change_rolls_the_same_release_with_the_new_value(
    published_libraries: Path, stage_block: Callable[..., str]
) -> None:
    stage = stage_block("config-dev", order=50, settings={"expenses": {"ApprovalLimit": "10"}})
    first = publish_app(str(EXAMPLES / "expenses"), stage)
    httpx.post(f"{first.url}/api/employee", json={"Name": "Flo"}).raise_for_status()
    stage_block(stage, order=50, settings={"expenses": {"ApprovalLimit": "20"}})

    again = apply_configuration("expenses", stage)
    assert (again.version, again.image_digest) == (first.version, first.image_digest)
    assert again.schema_changes == []
    meta = httpx.get(f"{again.url}/api/_meta").json()
    assert str(meta["settings"]["ApprovalLimit"]) == "20"
    assert [e["Name"] for e in httpx.get(f"{again.url}/api/employee").json()["items"]] == ["Flo"]


def test_configuring_an_app_a_stage_does_not_run_fails_clearly(
    published_libraries: Path, stage_block: Callable[..., str]
) -> None:
    stage = stage_block("config-empty", order=51)
    with pytest.raises(CatalogError, match="expenses runs nowhere on 'config-empty'"):
        apply_configuration("expenses", stage)
