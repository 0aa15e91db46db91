"""A team's workspace: two workers with no disk in common share the release catalog
(PostgreSQL) and the library builds (OCI artifacts in the registry), named by blocks."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from blocks import Registry, Workspace
from flows.promote_app import promote_app
from flows.publish_app import publish_app
from flows.publish_library import publish_library
from oneclick.cli.main import cli
from oneclick.images.runtime_image import RuntimeImageResult
from oneclick.releases import Catalog
from oneclick.runtimes import LocalRuntime
from tests.flows.rollout_support import variant
from tests.oneclick.data.local_postgres import LocalPostgres
from tests.oneclick.images.registry_support import RunningRegistry
from tests.support import EXAMPLES, RUNTIME_PREFIX, SECRET

APPS = ("expenses", "ws-other")
CONFIG = {
    "settings": {app: {"ApprovalLimit": "100"} for app in APPS},
    "secrets": {app: {"PaymentsApiKey": SECRET} for app in APPS},
}


def test_two_workers_with_no_shared_disk_share_releases_and_libraries_through_the_workspace(
    postgres: LocalPostgres,
    registry: RunningRegistry,
    runtime_base: RuntimeImageResult,
    stage_block: Callable[..., str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry_name = f"ws-{uuid.uuid4().hex[:8]}"
    Registry(url=registry.host, insecure=True, prefix=RUNTIME_PREFIX).save(registry_name)
    catalog_url = postgres.create_database()
    Workspace(catalog_url=catalog_url, library_registry=registry_name).save("default")
    homes = [tmp_path / "worker-a", tmp_path / "worker-b"]
    try:
        dev = stage_block("ws-dev", order=95, registry=registry_name, **CONFIG)
        qa = stage_block("ws-qa", order=96, registry=registry_name, **CONFIG)

        monkeypatch.setenv("ONECLICK_HOME", str(homes[0]))
        for library in ("money-formats", "finance-common"):
            publish_library(str(EXAMPLES / library))
        first = publish_app(str(EXAMPLES / "expenses"), dev)

        monkeypatch.setenv("ONECLICK_HOME", str(homes[1]))  # another machine
        promoted = promote_app("expenses", dev, qa)
        assert promoted.image_digest == first.image_digest
        other = publish_app(str(variant(tmp_path, "other", app="ws-other")), dev)
        assert other.app == "ws-other"
        fetched = homes[1] / "libraries" / "finance-common" / "1.2.0" / "manifest.json"
        assert fetched.is_file()  # resolved from the registry into this worker's cache

        for home in homes:  # nothing of the catalog on either machine
            assert not (home / "catalog.db").exists()
        catalog = Catalog(catalog_url)
        current = catalog.current("expenses", qa)
        assert current is not None and current.image_digest == first.image_digest
        assert catalog.current("ws-other", dev) is not None
        status = CliRunner().invoke(cli, ["status", "ws-other"])  # the CLI reads it too
        assert status.exit_code == 0, status.output
        assert any(line.split()[:2] == ["ws-other", dev] for line in status.output.splitlines())
    finally:
        Workspace.delete("default")
        for home in homes:
            LocalRuntime(home / "runtime").stop_all()
        Registry.delete(registry_name)


def test_the_workspace_keeps_prefect_results_in_the_catalog_for_a_run_resumed_elsewhere(
    prefect_server: str,
    postgres: LocalPostgres,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect import flow, task

    from oneclick.releases.results import Results
    from tasks.catalog import ONCE_PER_RUN

    catalog_url = postgres.create_database()
    workspace = Workspace(catalog_url=catalog_url)
    name = f"results-{uuid.uuid4().hex[:8]}"
    workspace.save(name)
    workspace.write_path("a/key", b"one")
    workspace.write_path("a/key", b"two")  # written again: the newer content
    assert workspace.read_path("a/key") == b"two"
    with pytest.raises(ValueError, match="no result is stored under 'missing'"):
        workspace.read_path("missing")

    calls: list[str] = []

    @task(cache_policy=ONCE_PER_RUN, persist_result=True)
    def look_up(name: str) -> str:
        calls.append(name)
        return f"found {name}"

    @flow(result_storage=workspace)
    def twice() -> list[str]:
        return [look_up(name="x"), look_up(name="x"), look_up(name="y")]

    monkeypatch.setenv("ONECLICK_HOME", str(tmp_path / "home"))
    try:
        assert twice() == ["found x", "found x", "found y"]
        assert calls == ["x", "y"]  # the second look-up of x was the stored result
        assert twice() == ["found x", "found x", "found y"]
        assert calls == ["x", "y", "x", "y"]  # another run computes again
    finally:
        Workspace.delete(name)
    with Results(Catalog(catalog_url)).catalog._session() as session:
        from sqlalchemy import func, select

        from oneclick.releases.tables import ResultRow

        # a/key, then for each run: x, y and the flow's own result
        assert session.scalar(select(func.count()).select_from(ResultRow)) == 1 + 2 * 3
