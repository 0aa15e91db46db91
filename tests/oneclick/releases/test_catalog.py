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
    catalog.record_schema(ok, ["x"], "script")
    catalog.finish_deployment(ok, Phase.SUCCEEDED, url="http://127.0.0.1:1")
    failed = catalog.start_deployment("expenses", "1.0.0+bb", "development", "run-2")
    catalog.finish_deployment(failed, Phase.FAILED, message="never ready")
    [current] = catalog.status()
    assert (current.stage, current.version, current.url) == (
        "development",
        "1.0.0+aa",
        "http://127.0.0.1:1",
    )
    assert [d.phase for d in catalog.deployments("expenses")] == [Phase.FAILED, Phase.SUCCEEDED]
    assert catalog.deployments("expenses")[1].schema_changes == ["x"]
    assert Phase.FAILED.is_terminal() and Phase.ABORTED.is_terminal()
    assert not Phase.RUNNING.is_terminal() and not Phase.PENDING.is_terminal()


def record(catalog: Catalog, version: str, digest: str) -> None:
    catalog.record_release(
        manifest=manifest(), model={}, version=version, image_digest=digest, image_reference="r"
    )


def attempt(catalog: Catalog, version: str, stage: str, phase: Phase, message: str = "") -> int:
    deployment = catalog.start_deployment("expenses", version, stage, "run")
    catalog.finish_deployment(deployment, phase, url="http://u", message=message or None)
    return deployment


def test_only_a_release_that_succeeded_on_the_source_stage_is_promotable(
    catalog: Catalog,
) -> None:
    record(catalog, "0.6.0+aa", "sha256:1")
    record(catalog, "0.7.0+bb", "sha256:2")
    attempt(catalog, "0.6.0+aa", "development", Phase.SUCCEEDED)
    attempt(catalog, "0.7.0+bb", "development", Phase.FAILED, "lossy change refused: x")
    assert catalog.promotable("expenses", "development").version == "0.6.0+aa"
    assert catalog.promotable("expenses", "development", "0.6.0").version == "0.6.0+aa"
    with pytest.raises(CatalogError) as refused:
        catalog.promotable("expenses", "development", "0.7.0")
    assert "0.7.0+bb never succeeded on 'development'" in str(refused.value)
    assert "failed: lossy change refused: x" in str(refused.value)
    with pytest.raises(CatalogError, match="never succeeded on 'qa'"):
        catalog.promotable("expenses", "qa", "0.6.0")
    with pytest.raises(CatalogError, match="runs nowhere on 'qa'"):
        catalog.promotable("expenses", "qa")


def test_an_ambiguous_version_lists_its_candidates(catalog: Catalog) -> None:
    record(catalog, "0.7.0+aa", "sha256:1")
    record(catalog, "0.7.0+bb", "sha256:2")
    record(catalog, "0.8.0+cc", "sha256:3")
    with pytest.raises(CatalogError) as ambiguous:
        catalog.release("expenses", "0.7.0")
    message = str(ambiguous.value)
    assert "0.7.0+aa" in message and "0.7.0+bb" in message and "0.8.0" not in message


def test_unfinished_attempts_are_aborted_by_stage_or_by_run(catalog: Catalog) -> None:
    record(catalog, "1.0.0+aa", "sha256:1")
    done = attempt(catalog, "1.0.0+aa", "development", Phase.SUCCEEDED)
    stale = catalog.start_deployment("expenses", "1.0.0+aa", "development", "run-a")
    catalog.mark_running(stale)
    other = catalog.start_deployment("expenses", "1.0.0+aa", "qa", "run-b")
    [aborted] = catalog.abort_unfinished("expenses", "development", "killed")
    assert (aborted.id, aborted.phase, aborted.message) == (stale, Phase.ABORTED, "killed")
    assert catalog.abort_unfinished("expenses", "development", "again") == []
    [by_run] = catalog.abort_run("run-b", "cancelled")
    assert by_run.id == other and by_run.phase is Phase.ABORTED
    phases = {d.id: d.phase for d in catalog.deployments("expenses")}
    assert phases[done] is Phase.SUCCEEDED
    assert catalog.current("expenses", "development").id == done  # type: ignore[union-attr]
