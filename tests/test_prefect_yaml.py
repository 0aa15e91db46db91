"""prefect.yaml is accepted by `prefect deploy --all`, and its deployments run on a worker,
as a person starting them from the UI would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from prefect.client.orchestration import get_client

from tests.support import EXAMPLES

ROOT = Path(__file__).resolve().parents[1]


def prefect(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prefect", "--no-prompt", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@contextmanager
def running_worker(deployed: dict[str, str], home: Path) -> Iterator[None]:
    """A process worker of the 'oneclick' pool for the ``with`` block, on oneclick ``home``."""
    env = {**deployed, "ONECLICK_HOME": str(home), "PREFECT_WORKER_QUERY_SECONDS": "1"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "prefect", "worker", "start", "--pool", "oneclick"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a busy machine: the run's outcome is what counts
            worker.kill()
            worker.wait()


@pytest.fixture(scope="module")
def deployed(prefect_server: str) -> dict[str, str]:
    env = {**os.environ, "ONECLICK_SOURCE_DIR": str(ROOT)}
    pool = prefect("work-pool", "create", "oneclick", "--type", "process", "--overwrite", env=env)
    assert pool.returncode == 0, pool.stdout + pool.stderr
    result = prefect("deploy", "--all", env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return env


def test_prefect_yaml_declares_the_deployments_oneclick_up_serves() -> None:
    from flows.deployments import DEPLOYMENTS, prefect_yaml

    assert (ROOT / "prefect.yaml").read_text() == prefect_yaml(), (
        "prefect.yaml is stale: run `python -m flows.deployments > prefect.yaml`"
    )
    declared = yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
    assert [d["name"] for d in declared] == [spec.name for spec in DEPLOYMENTS]
    for spec in DEPLOYMENTS:  # every entrypoint names the flow the server would run
        assert spec.flow().name == spec.name


def test_the_deployments_have_typed_parameters(deployed: dict[str, str]) -> None:
    with get_client(sync_client=True) as client:
        publish = client.read_deployment_by_name("publish-app/publish-app")
        promote = client.read_deployment_by_name("promote-app/promote-app")
        client.read_deployment_by_name("publish-library/publish-library")
        rollback = client.read_deployment_by_name("rollback-app/rollback-app")
        stage = client.read_deployment_by_name("promote-stage/promote-stage")
    field = publish.parameter_openapi_schema["properties"]["stage"]
    assert field["type"] == "string" and field["default"] == "development"
    assert field["pattern"].startswith("^[A-Za-z0-9]")
    assert set(promote.parameter_openapi_schema["required"]) == {"app"}
    assert set(rollback.parameter_openapi_schema["required"]) == {"app"}
    assert set(stage.parameter_openapi_schema["required"]) == {"stage"}


def test_editing_a_stage_block_brings_the_promotion_schedules_up_to_date(
    deployed: dict[str, str], stage_block: Callable[..., str], oneclick_home: Path
) -> None:
    from flows.schedules import sync_promotion_schedules
    from tests.flows.rollout_support import wait_for

    def schedules() -> list[tuple[str, str, str]]:
        with get_client(sync_client=True) as client:
            deployment = client.read_deployment_by_name("promote-stage/promote-stage")
            found = client.read_deployment_schedules(deployment.id)
        return sorted(
            (s.schedule.cron, s.schedule.timezone, s.parameters["stage"])  # type: ignore[union-attr]
            for s in found
            if s.parameters.get("stage") == "sched-qa"
        )

    policy = {"source": "development", "schedules": [{"cron": "0 2 * * *"}]}
    stage_block("sched-qa", order=80, promotion=policy)
    sync_promotion_schedules()  # at once, as `oneclick schedule --sync` does
    assert schedules() == [("0 2 * * *", "UTC", "sched-qa")]

    # an edit, as in the UI: the sync-schedules deployment's trigger follows it
    policy["schedules"] = [
        {"cron": "0 2 * * *"},
        {"cron": "30 22 * * 1-5", "timezone": "Europe/Berlin"},
    ]
    with running_worker(deployed, oneclick_home):
        stage_block("sched-qa", order=80, promotion=policy)
        wait_for(lambda: len(schedules()) == 2, timeout=120, what="the schedules to follow")
    assert schedules() == [
        ("0 2 * * *", "UTC", "sched-qa"),
        ("30 22 * * 1-5", "Europe/Berlin", "sched-qa"),
    ]


def test_a_git_push_event_triggers_publish_app_with_the_commit(
    deployed: dict[str, str],
) -> None:
    with get_client(sync_client=True) as client:
        publish = client.read_deployment_by_name("publish-app/publish-app")
        automations = client.read_automations()
    mine = [a for a in automations if str(publish.id) in str(a.actions)]
    assert len(mine) == 1, automations
    trigger = mine[0].trigger.model_dump(mode="json")
    assert trigger["expect"] == ["oneclick.git.push.app"]
    (action,) = mine[0].model_dump(mode="json")["actions"]
    assert action["parameters"]["source_revision"] == "{{ event.payload.commit }}"


def test_a_deployment_run_completes_on_a_worker(
    deployed: dict[str, str], oneclick_home: Path
) -> None:
    from prefect.deployments import run_deployment

    with running_worker(deployed, oneclick_home):
        run = run_deployment(
            "publish-library/publish-library",
            parameters={"path": str(EXAMPLES / "money-formats")},
            timeout=150,
        )
    assert run.state is not None and run.state.is_completed(), run.state
    assert (oneclick_home / "libraries" / "money-formats" / "0.3.0" / "manifest.json").exists()


@pytest.mark.timeout(600)
def test_a_publish_cancelled_from_prefect_is_aborted_and_frees_the_stage(
    deployed: dict[str, str], published_libraries: Path, tmp_path: Path
) -> None:
    import time
    from uuid import UUID

    from prefect.deployments import run_deployment
    from prefect.states import Cancelling

    from flows.publish_app import publish_app
    from oneclick.home import Home
    from oneclick.releases import Catalog, Leases, Phase
    from tests.flows.rollout_support import (
        deployments,
        lock_stage_database,
        ready,
        variant,
        wait_for,
    )

    good = publish_app(str(variant(tmp_path, "v1")), "development")
    lock = lock_stage_database(published_libraries, "development")  # caught mid-rollout
    try:
        with running_worker(deployed, published_libraries):
            run = run_deployment(
                "publish-app/publish-app",
                parameters={"path": str(variant(tmp_path, "v2", version="1.1.0", phone=True))},
                timeout=0,
            )
            wait_for(
                lambda: deployments(stage="development")[0].phase is Phase.RUNNING,
                timeout=240,
                what="the run to start rolling out",
            )
            cancelled = time.monotonic()
            with get_client(sync_client=True) as client:
                client.set_flow_run_state(UUID(str(run.id)), Cancelling(), force=True)
            catalog = Catalog(Home.from_env().catalog_url)
            wait_for(  # the hook aborts the attempt, then gives up the lease
                lambda: (
                    deployments(stage="development")[0].phase is Phase.ABORTED
                    and Leases(catalog).holder("expenses", "development") is None
                ),
                timeout=60,
                what="the cancelled attempt to be recorded aborted and its lease given up",
            )
            assert time.monotonic() - cancelled < 30  # the hook, not the lease's expiry
            assert "cancelled or stopped" in (deployments(stage="development")[0].message or "")
    finally:
        lock.rollback()
        lock.close()
    assert ready(good.url)
