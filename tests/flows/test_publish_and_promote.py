"""publish_app and promote_app end to end, in process, against the real Prefect server."""

from __future__ import annotations

import shutil
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.sorting import ArtifactSort, TaskRunSort

from flows.promote_app import promote_app
from flows.publish_app import publish_app
from oneclick.errors import CatalogError, DeployError, SchemaError
from oneclick.home import Home
from oneclick.releases import Catalog, Phase
from oneclick.runtimes import LocalRuntime
from tests.support import EXAMPLES, SECRET


def task_names(flow_run_id: str) -> set[str]:
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)])),
            sort=TaskRunSort.EXPECTED_START_TIME_DESC,
            limit=200,
        )
    return {run.name.rsplit("-", 1)[0] for run in runs}


def test_publish_then_promote_runs_the_same_image_with_each_stage_settings(
    published_libraries: Path,
) -> None:
    dev = publish_app(str(EXAMPLES / "expenses"), "development")
    assert dev.schema_changes  # a fresh database: the tables were created
    created = httpx.post(
        f"{dev.url}/api/employee", json={"Name": "Ann", "Email": "ann@example.org"}
    )
    assert created.status_code == 201, created.text

    qa = promote_app("expenses", "development", "qa")
    assert qa.image_digest == dev.image_digest and qa.version == dev.version
    assert qa.url != dev.url

    catalog = Catalog(Home.from_env().catalog_url)
    promoted = catalog.current("expenses", "qa")
    assert promoted is not None and promoted.flow_run_id
    names = task_names(promoted.flow_run_id)
    assert "deploy image" in names and "run database scripts" in names
    assert not names & {"compile app", "build image", "load app model"}, names
    runtime = LocalRuntime(published_libraries / "runtime")
    dev_instance = runtime.status("development", "expenses")
    qa_instance = runtime.status("qa", "expenses")
    assert dev_instance and qa_instance
    assert dev_instance.digest == qa_instance.digest == dev.image_digest

    # each stage runs with its own settings; the qa database is its own
    dev_meta = httpx.get(f"{dev.url}/api/_meta").json()
    qa_meta = httpx.get(f"{qa.url}/api/_meta").json()
    assert str(dev_meta["settings"]["ApprovalLimit"]) == "5000"
    assert str(qa_meta["settings"]["ApprovalLimit"]) == "1000"
    assert httpx.get(f"{qa.url}/api/employee").json()["items"] == []
    for meta in (dev_meta, qa_meta):
        assert SECRET not in str(meta)


def test_republishing_an_unchanged_app_keeps_the_release_and_the_data(
    published_libraries: Path,
) -> None:
    first = publish_app(str(EXAMPLES / "expenses"), "development")
    httpx.post(f"{first.url}/api/employee", json={"Name": "Bo"}).raise_for_status()
    again = publish_app(str(EXAMPLES / "expenses"), "development")
    assert (again.version, again.image_digest) == (first.version, first.image_digest)
    assert again.schema_changes == []
    names = [e["Name"] for e in httpx.get(f"{again.url}/api/employee").json()["items"]]
    assert names == ["Bo"]


def test_a_refused_schema_change_deploys_nothing_and_the_previous_release_serves(
    published_libraries: Path, tmp_path: Path
) -> None:
    good = publish_app(str(EXAMPLES / "expenses"), "development")
    httpx.post(f"{good.url}/api/employee", json={"Name": "Cy"}).raise_for_status()
    shorter = tmp_path / "expenses"
    shutil.copytree(EXAMPLES / "expenses", shorter)
    model = (shorter / "app.yaml").read_text()
    (shorter / "app.yaml").write_text(model.replace("length: 100,", "length: 90,"))
    with pytest.raises(SchemaError, match=r"employee\.name: changing the type"):
        publish_app(str(shorter), "development")
    assert httpx.get(f"{good.url}/readyz").status_code == 200
    assert [e["Name"] for e in httpx.get(f"{good.url}/api/employee").json()["items"]] == ["Cy"]
    catalog = Catalog(Home.from_env().catalog_url)
    refused, previous = catalog.deployments("expenses")[:2]
    assert (previous.version, previous.phase) == (good.version, Phase.SUCCEEDED)
    assert refused.phase is Phase.FAILED and refused.version != good.version
    assert "refused" in (refused.message or "") and refused.schema_changes == []
    with pytest.raises(CatalogError, match="never succeeded on 'development'"):
        promote_app("expenses", "development", "qa", version=refused.version)


def test_a_release_that_never_gets_ready_leaves_the_previous_one_serving(
    published_libraries: Path,
) -> None:
    from blocks import Stage

    good = publish_app(str(EXAMPLES / "expenses"), "production")
    block = Stage.load("production")
    assert isinstance(block, Stage)
    broken = block.model_copy(
        update={"settings": {"expenses": {"ApprovalLimit": "lots", "CurrencySymbol": "€"}}}
    )
    broken.save("production", overwrite=True)
    try:
        with pytest.raises(DeployError, match=r"did not become ready"):
            publish_app(str(EXAMPLES / "expenses"), "production")
    finally:
        block.save("production", overwrite=True)
    assert httpx.get(f"{good.url}/readyz").status_code == 200
    catalog = Catalog(Home.from_env().catalog_url)
    latest, previous = catalog.deployments("expenses")[:2]
    assert latest.phase is Phase.FAILED and previous.phase is Phase.SUCCEEDED
    current = catalog.current("expenses", "production")
    assert current is not None and current.url == good.url


def test_a_failing_database_script_abandons_the_rollout_and_rolls_back(
    published_libraries: Path, tmp_path: Path
) -> None:
    good = publish_app(str(EXAMPLES / "expenses"), "development")
    for name in ("Ann", "Ann again"):
        httpx.post(
            f"{good.url}/api/employee", json={"Name": name, "Email": "ann@example.org"}
        ).raise_for_status()
    unique = tmp_path / "expenses"
    shutil.copytree(EXAMPLES / "expenses", unique)
    model = (unique / "app.yaml").read_text()
    model = model.replace(
        "      - {name: Email, type: email}\n",
        "      - {name: Email, type: email}\n    indexes:\n"
        "      - {attributes: [Email], unique: true}\n",
    )
    (unique / "app.yaml").write_text(model)
    # the plan allows a new index; running it fails on the duplicate e-mail addresses
    with pytest.raises(SchemaError, match="rolled back"):
        publish_app(str(unique), "development")
    catalog = Catalog(Home.from_env().catalog_url)
    failed = catalog.deployments("expenses")[0]
    assert failed.phase is Phase.FAILED and failed.flow_run_id
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(failed.flow_run_id)])),
            sort=TaskRunSort.EXPECTED_START_TIME_DESC,
            limit=200,
        )
    [deploy] = [run for run in runs if run.name.startswith("deploy image")]
    assert deploy.state is not None and "abandoned" in (deploy.state.message or "")
    assert httpx.get(f"{good.url}/readyz").status_code == 200
    assert httpx.get(f"{good.url}/api/employee").json()["total"] == 2


def test_no_secret_reaches_an_artifact_a_log_an_image_or_a_file(
    published_libraries: Path,
) -> None:
    import gzip

    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    dev = publish_app(str(EXAMPLES / "expenses"), "development")
    promote_app("expenses", "development", "qa")
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(like_="expenses-")),
            sort=ArtifactSort.CREATED_DESC,
            limit=50,
        )
    assert {a.key for a in artifacts} >= {"expenses-development-release", "expenses-qa-url"}
    assert any(dev.image_digest in str(a.data) for a in artifacts)
    for artifact in artifacts:
        assert SECRET not in str(artifact.data) + str(artifact.description)
    scanned = 0
    for path in published_libraries.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        assert SECRET.encode() not in data, path
        scanned += 1
    assert scanned > 50  # logs, state, catalog, image blobs, unpacked layers
