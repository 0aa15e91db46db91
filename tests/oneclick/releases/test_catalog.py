"""The release catalog on a real SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oneclick.errors import CatalogError
from oneclick.releases import Catalog, Phase


def manifest(app: str = "expenses") -> dict[str, Any]:
    return {
        "app": app,
        "digest": "sha256:build",
        "schema_fingerprint": "sha256:schema",
        "libraries": [{"name": "finance-common", "version": "1.2.0", "digest": "sha256:l"}],
    }


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")


def test_a_release_is_recorded_once_and_is_immutable(catalog: Catalog) -> None:
    first = catalog.record_release(
        manifest=manifest(),
        model={},
        version="1.0.0+aa",
        image_digest="sha256:i1",
        image_reference="r",
    )
    again = catalog.record_release(
        manifest=manifest(),
        model={},
        version="1.0.0+aa",
        image_digest="sha256:i1",
        image_reference="r",
    )
    assert again == first
    with pytest.raises(CatalogError, match="already recorded with image sha256:i1"):
        catalog.record_release(
            manifest=manifest(),
            model={},
            version="1.0.0+aa",
            image_digest="sha256:i2",
            image_reference="r",
        )


def test_release_lookup_by_prefix_and_newest(catalog: Catalog) -> None:
    for version, digest in (("1.0.0+aa", "sha256:1"), ("1.0.0+bb", "sha256:2")):
        catalog.record_release(
            manifest=manifest(), model={}, version=version, image_digest=digest, image_reference="r"
        )
    assert catalog.release("expenses").version == "1.0.0+bb"
    assert catalog.release("expenses", "1.0.0+a").image_digest == "sha256:1"
    with pytest.raises(CatalogError, match="ambiguous"):
        catalog.release("expenses", "1.0.0")
    with pytest.raises(CatalogError, match="no release of 'payroll'"):
        catalog.release("payroll")


def test_status_shows_what_each_stage_runs(catalog: Catalog) -> None:
    catalog.record_release(
        manifest=manifest(),
        model={},
        version="1.0.0+aa",
        image_digest="sha256:1",
        image_reference="r",
    )
    catalog.record_release(
        manifest=manifest(),
        model={},
        version="1.0.0+bb",
        image_digest="sha256:2",
        image_reference="r",
    )
    ok = catalog.start_deployment("expenses", "1.0.0+aa", "development", "run-1")
    catalog.finish_deployment(ok, Phase.SUCCEEDED, url="http://127.0.0.1:1", schema_changes=["x"])
    failed = catalog.start_deployment("expenses", "1.0.0+bb", "development", "run-2")
    catalog.finish_deployment(failed, Phase.FAILED, message="never ready")
    [current] = catalog.status()
    assert (current.stage, current.version, current.url) == (
        "development",
        "1.0.0+aa",
        "http://127.0.0.1:1",
    )
    assert [d.phase for d in catalog.deployments("expenses")] == [Phase.FAILED, Phase.SUCCEEDED]
    assert Phase.FAILED.is_terminal() and not Phase.RUNNING.is_terminal()
