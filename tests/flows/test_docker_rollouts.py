"""Rollouts on a ``docker`` stage that hold when runs are killed or fail: the real Docker
engine, the real registry, a real SIGKILL of the CLI process."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from blocks import Registry
from flows.publish_app import publish_app
from oneclick.errors import DeployError
from oneclick.images.runtime_image import RuntimeImageResult
from oneclick.releases import Phase
from oneclick.runtimes.docker import LABEL, STARTING, DockerRuntime
from oneclick.runtimes.docker_config import DockerRuntimeConfig
from tests.docker_fixture import DockerEngine, docker_engine  # noqa: F401  (fixture)
from tests.flows.rollout_support import (
    LoadLoop,
    deployments,
    employees,
    finish,
    publish_and_kill,
    ready,
    start_publish,
    variant,
)
from tests.flows.test_rollout_failures import (
    BROKEN,
    GOOD,
    SECRETS,
    httpx_post_employee,
)
from tests.oneclick.images.registry_support import RunningRegistry
from tests.support import RUNTIME_PREFIX

STAGE = "docker-rollouts"


@pytest.fixture
def docker_stage(
    docker_engine: DockerEngine,  # noqa: F811
    registry: RunningRegistry,
    runtime_base: RuntimeImageResult,
    stage_block: Callable[..., str],
) -> Iterator[Callable[[dict[str, dict[str, str]]], DockerRuntime]]:
    """A docker stage (saved again with the settings given); yields a function that saves it
    and returns its runtime."""
    name = f"registry-{uuid.uuid4().hex[:8]}"
    Registry(url=registry.host, insecure=True, prefix=RUNTIME_PREFIX).save(name)
    config = DockerRuntimeConfig(engine_url=docker_engine.url, namespace=name)
    runtime = DockerRuntime(config, client=docker_engine.client)

    def save(settings: dict[str, dict[str, str]]) -> DockerRuntime:
        stage_block(
            STAGE,
            order=30,
            runtime="docker",
            registry=name,
            docker=config,
            settings=settings,
            secrets=SECRETS,
        )
        return runtime

    yield save
    runtime.undeploy(STAGE, "expenses")
    Registry.delete(name)


def containers(engine: DockerEngine, runtime: DockerRuntime) -> list[str]:
    """The names of the stage's app containers (its address's proxy container left out)."""
    found = engine.client.containers.list(
        all=True, filters={"label": [f"{LABEL}.namespace={runtime.config.namespace}"]}
    )
    return sorted(str(c.name) for c in found if c.labels.get(f"{LABEL}.role") != "address")


@pytest.mark.timeout(900)
@pytest.mark.parametrize("moment", ["build", "scripts", "deploy wait"])
def test_a_run_killed_mid_way_on_docker_leaves_the_previous_container_serving(
    moment: str,
    published_libraries: Path,
    docker_stage: Callable[[dict[str, dict[str, str]]], DockerRuntime],
    docker_engine: DockerEngine,  # noqa: F811
    tmp_path: Path,
) -> None:
    home = published_libraries
    runtime = docker_stage(GOOD)
    good = publish_app(str(variant(tmp_path, "v1")), STAGE)
    assert httpx_post_employee(good.url, "Ann")
    [serving] = containers(docker_engine, runtime)
    if moment == "deploy wait":
        docker_stage(BROKEN)
    next_version = variant(tmp_path, "v2", version="1.1.0", phone=True)
    publish_and_kill(
        next_version,
        STAGE,
        home,
        moment,
        lambda: any(n.endswith(STARTING) for n in containers(docker_engine, runtime)),
    )
    assert ready(good.url) and employees(good.url) == ["Ann"]
    status = runtime.status(STAGE, "expenses")
    assert status is not None and status.url == good.url  # an orphan is never reported

    docker_stage(GOOD)
    finish(start_publish(next_version, STAGE))
    latest, *earlier = deployments(stage=STAGE)
    assert latest.phase is Phase.SUCCEEDED and ready(latest.url or "")
    assert employees(latest.url or "") == ["Ann"] and latest.url == good.url
    if moment != "build":
        assert earlier[0].phase is Phase.ABORTED, [d.phase for d in earlier]
    left = containers(docker_engine, runtime)
    assert len(left) == 1 and not left[0].endswith(STARTING) and left != [serving], left


@pytest.mark.timeout(900)
def test_no_request_fails_on_docker_during_a_schema_change_and_a_failed_publish(
    published_libraries: Path,
    docker_stage: Callable[[dict[str, dict[str, str]]], DockerRuntime],
    tmp_path: Path,
) -> None:
    runtime = docker_stage(GOOD)
    first = publish_app(str(variant(tmp_path, "v1")), STAGE)
    assert httpx_post_employee(first.url, "Ann")

    def locate() -> str | None:
        status = runtime.status(STAGE, "expenses")
        return status.url if status is not None else None

    with LoadLoop(locate) as during_change:
        publish_app(str(variant(tmp_path, "v2", version="1.1.0", phone=True)), STAGE)
    assert during_change.failures == [] and during_change.ok > 20, during_change.failures[:3]
    docker_stage(BROKEN)
    third = variant(tmp_path, "v3", version="1.2.0", phone=True, job_title=True)
    with LoadLoop(locate) as during_failure, pytest.raises(DeployError):
        publish_app(str(third), STAGE)
    assert during_failure.failures == [] and during_failure.ok > 20, during_failure.failures[:3]
