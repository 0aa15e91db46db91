"""oneclick on a Prefect Docker work pool: each flow run in a container of the worker image,
on the host network, with no volume at all. The runs share only services: the Prefect
server, the registry (images and library builds), PostgreSQL (the release catalog) and the
Docker engine of the stage (over TCP on 127.0.0.1)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    TaskRunFilter,
    TaskRunFilterName,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import TaskRunSort
from prefect.deployments import run_deployment

from blocks import Registry, Workspace
from flows.promote_app import promote_app
from flows.publish_app import publish_app
from flows.publish_library import publish_library
from oneclick.images.worker_image import WorkerImageResult
from oneclick.releases import Catalog
from oneclick.runtimes import LocalRuntime
from oneclick.runtimes.docker import DockerRuntime
from oneclick.runtimes.docker_config import DockerRuntimeConfig
from tests.docker_fixture import DockerEngine, docker_engine  # noqa: F401  (fixture)
from tests.flows.rollout_support import variant
from tests.oneclick.data.local_postgres import LocalPostgres
from tests.oneclick.images.registry_support import RunningRegistry
from tests.support import EXAMPLES, RUNTIME_PREFIX, SECRET

ROOT = Path(__file__).resolve().parents[1]
POOL = "oneclick-docker-tests"
FLOWS = {
    "publish-library": publish_library,
    "publish-app": publish_app,
    "promote-app": promote_app,
}
CONFIG = {
    "settings": {"expenses": {"ApprovalLimit": "300"}},
    "secrets": {"expenses": {"PaymentsApiKey": SECRET}},
}


@pytest.fixture
def team(
    postgres: LocalPostgres,
    registry: RunningRegistry,
    docker_engine: DockerEngine,  # noqa: F811
    stage_block: Callable[..., str],
) -> Iterator[dict[str, Any]]:
    """The blocks of a team: a registry, the workspace (catalog on PostgreSQL, libraries in
    the registry) and two docker stages on the engine's TCP address."""
    name = f"pool-{uuid.uuid4().hex[:8]}"
    Registry(url=registry.host, insecure=True, prefix=RUNTIME_PREFIX).save(name)
    catalog_url = postgres.create_database("catalog")
    workspace = Workspace(catalog_url=catalog_url, library_registry=name)
    workspace.save("default")
    with get_client(sync_client=True) as client:  # results kept in the catalog, for resumes
        client.update_server_default_result_storage(workspace._block_document_id)
    docker = DockerRuntimeConfig(engine_url=docker_engine.tcp_url, namespace=name)
    stages = {}
    for order, stage in ((97, "pool-dev"), (98, "pool-qa"), (96, "pool-prod")):
        # app containers reach a database over the network, never a file of the flow's
        database = f"{name}_{stage}_{{app}}".replace("-", "_")
        for app in ("expenses", "timesheets"):
            postgres.create_named_database(database.format(app=app))
        stages[stage] = stage_block(
            stage,
            order=order,
            runtime="docker",
            registry=name,
            docker=docker,
            database_url=postgres.url(database),
            requires_approval=stage == "pool-prod",
            **CONFIG,
        )
    stages["pool-local"] = stage_block("pool-local", order=99, registry=name, **CONFIG)
    try:
        yield {"catalog": catalog_url, "stages": stages, "registry": name}
    finally:
        with get_client(sync_client=True) as client:
            client.clear_server_default_result_storage()
        Workspace.delete("default")
        runtime = DockerRuntime(docker, client=docker_engine.client)
        for stage in ("pool-dev", "pool-qa", "pool-prod"):
            for app in ("expenses", "timesheets"):
                runtime.undeploy(stage, app)
        Registry.delete(name)


@pytest.fixture
def docker_pool(
    prefect_server: str,
    worker_image: WorkerImageResult,
    docker_engine: DockerEngine,  # noqa: F811
) -> Iterator[dict[str, str]]:
    """A Docker work pool, oneclick's deployments on it, and a worker of it; yields the
    deployment names by flow."""
    env = {**os.environ, "DOCKER_HOST": docker_engine.url, "PREFECT_WORKER_QUERY_SECONDS": "1"}
    created = subprocess.run(
        [sys.executable, "-m", "prefect", "--no-prompt", "work-pool", "create", POOL,
         "--type", "docker", "--overwrite"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert created.returncode == 0, created.stdout + created.stderr
    variables = {"network_mode": "host", "image_pull_policy": "IfNotPresent", "auto_remove": False}
    # by tag: the Docker worker cannot pull a digest reference (it reads it as repo:tag)
    image = f"{worker_image.reference.partition('@')[0]}:{worker_image.tag}"
    names = {}
    for name, flow in FLOWS.items():
        flow.deploy(  # type: ignore[attr-defined]
            f"{name}-on-docker",
            work_pool_name=POOL,
            image=image,
            build=False,
            push=False,
            job_variables=variables,
            print_next_steps=False,
        )
        names[name] = f"{name}/{name}-on-docker"
    worker = subprocess.Popen(
        [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL, "--type", "docker"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield names
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def run(deployment: str, parameters: dict[str, Any]) -> Any:
    return run_wait(run_deployment(deployment, parameters=parameters, timeout=0).id)


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_flow_runs_on_a_docker_work_pool_publish_and_promote_with_no_shared_disk(
    team: dict[str, Any],
    docker_pool: dict[str, str],
    docker_engine: DockerEngine,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dev, qa = team["stages"]["pool-dev"], team["stages"]["pool-qa"]
    for library in ("money-formats", "finance-common"):
        done = run(docker_pool["publish-library"], {"path": f"examples/{library}"})
        assert done.state.is_completed(), done.state

    # two apps at once, each in a container of its own
    started = [
        run_deployment(
            docker_pool["publish-app"],
            parameters={"path": f"examples/{app}", "stage": dev},
            timeout=0,
        )
        for app in ("expenses", "timesheets")
    ]
    runs = [run_wait(flow_run.id) for flow_run in started]
    assert all(r.state.is_completed() for r in runs), [
        (r.state.name, r.state.message) for r in runs
    ]
    # both containers were started before either run ended (on a loaded machine the engine
    # may be slow to bring the second one up: its submission is what oneclick controls)
    first_end = min(r.end_time for r in runs)
    submitted = [submitted_at(r.id) for r in runs]
    assert all(when < first_end for when in submitted), f"not at once: {submitted}, {first_end}"

    promoted = run(
        docker_pool["promote-app"], {"app": "expenses", "from_stage": dev, "to_stage": qa}
    )
    assert promoted.state.is_completed(), promoted.state
    catalog = Catalog(team["catalog"])
    on_dev, on_qa = catalog.current("expenses", dev), catalog.current("expenses", qa)
    assert on_dev is not None and on_qa is not None
    assert on_qa.image_digest == on_dev.image_digest
    labels = {"dev.oneclick.stage": dev}
    assert docker_engine.client.containers.list(
        filters={"label": [f"{k}={v}" for k, v in labels.items()]}
    )

    # the same publishes in this process build the same images (a differing digest under the
    # same version would be refused by the catalog)
    home = tmp_path / "in-process"
    monkeypatch.setenv("ONECLICK_HOME", str(home))
    try:
        for app in ("expenses", "timesheets"):
            here = publish_app(str(EXAMPLES / app), team["stages"]["pool-local"])
            there = catalog.current(app, dev)
            assert there is not None and here.image_digest == there.image_digest
    finally:
        LocalRuntime(home / "runtime").stop_all()


def run_wait(flow_run_id: Any, timeout: float = 600) -> Any:
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            flow_run = client.read_flow_run(flow_run_id)
            if flow_run.state is not None and flow_run.state.is_final():
                return flow_run
            assert time.monotonic() < deadline, f"flow run {flow_run_id}: {flow_run.state}"
            time.sleep(1)


def wait_until_suspended(flow_run_id: Any, timeout: float = 400) -> None:
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            state = client.read_flow_run(flow_run_id).state
            if state is not None and state.name == "Suspended":
                return
            assert state is None or not state.is_final(), f"ended before approval: {state}"
            assert time.monotonic() < deadline, f"not suspended: {state}"
            time.sleep(1)


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_a_promotion_waiting_for_approval_on_the_pool_gives_its_container_back(
    team: dict[str, Any],
    docker_pool: dict[str, str],
    docker_engine: DockerEngine,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.flow_runs import resume_flow_run

    dev, prod = team["stages"]["pool-dev"], team["stages"]["pool-prod"]
    monkeypatch.setenv("ONECLICK_HOME", str(tmp_path / "in-process"))
    for library in ("money-formats", "finance-common"):
        publish_library(str(EXAMPLES / library))
    published = publish_app(str(EXAMPLES / "expenses"), dev)
    catalog = Catalog(team["catalog"])
    promote = {"app": "expenses", "from_stage": dev, "to_stage": prod, "approval_timeout": 900}

    # rejected: the run ends, nothing on the stage touched
    rejected = run_deployment(docker_pool["promote-app"], parameters=promote, timeout=0)
    wait_until_suspended(rejected.id)
    label = f"io.prefect.flow-run-id={rejected.id}"
    deadline = time.monotonic() + 60  # the suspended process exits: its container stops
    while docker_engine.client.containers.list(filters={"label": label}):
        assert time.monotonic() < deadline, "the container kept running while the run waited"
        time.sleep(1)
    assert run_wait_state(rejected.id) == "Suspended"  # still waiting, with no container
    resume_flow_run(rejected.id, run_input={"approve": False, "reason": "not today"})
    ended = run_wait(rejected.id)
    assert ended.state.is_failed() and "was rejected: not today" in (ended.state.message or "")
    assert catalog.deployments("expenses", stage=prod) == []

    # approved: the worker starts the run again and it completes the promotion of the
    # release that was approved, though development runs a newer one by then: the resumed
    # run found what it computed before waiting in the workspace's result storage
    approved = run_deployment(docker_pool["promote-app"], parameters=promote, timeout=0)
    wait_until_suspended(approved.id)
    newer = publish_app(str(variant(tmp_path, "newer", version="1.0.1")), dev)
    assert newer.image_digest != published.image_digest
    resume_flow_run(approved.id, run_input={"approve": True, "reason": "release 12"})
    done = run_wait(approved.id)
    assert done.state.is_completed(), done.state
    current = catalog.current("expenses", prod)
    assert current is not None and current.version == published.version
    assert current.image_digest == published.image_digest
    assert task_states(approved.id, "find release") == ["Completed", "Cached"]


def task_states(flow_run_id: Any, task: str) -> list[str]:
    """The states of the runs of ``task`` in a flow run, oldest first."""
    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
            task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_=task)),
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
        )
    return [t.state.name for t in task_runs if t.state is not None]


def submitted_at(flow_run_id: Any) -> Any:
    """When the worker handed the run to its container (the run's first Pending state)."""
    with get_client(sync_client=True) as client:
        states = client.read_flow_run_states(flow_run_id)
    return min(s.timestamp for s in states if s.type == StateType.PENDING)


def run_wait_state(flow_run_id: Any) -> str:
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run_id).state
    return state.name if state is not None else "none"
