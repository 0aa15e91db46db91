"""Two stages with ``runtime: docker`` and a registry block: publish builds daemonlessly and
pushes, the engine pulls by digest and runs it; promotion runs the same digest with the next
stage's settings; status shows the containers; undeploy removes them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from blocks import Registry
from flows.promote_app import promote_app
from flows.publish_app import publish_app
from oneclick.cli.main import cli
from oneclick.images.runtime_image import RuntimeImageResult
from oneclick.runtimes.docker import LABEL, DockerRuntime
from oneclick.runtimes.docker_config import DockerRuntimeConfig
from tests.docker_fixture import DockerEngine, docker_engine  # noqa: F401  (fixture)
from tests.oneclick.images.registry_support import SKOPEO, RunningRegistry, skopeo_inspect
from tests.support import EXAMPLES, RUNTIME_PREFIX, SECRET


@pytest.fixture
def docker_stages(
    docker_engine: DockerEngine,  # noqa: F811
    registry: RunningRegistry,
    runtime_base: RuntimeImageResult,
    stage_block: Callable[..., str],
) -> Iterator[DockerRuntimeConfig]:
    """docker-dev and docker-qa: containers of the test engine, images in the test registry."""
    name = f"registry-{uuid.uuid4().hex[:8]}"
    Registry(url=registry.host, insecure=True, prefix=RUNTIME_PREFIX).save(name)
    config = DockerRuntimeConfig(engine_url=docker_engine.url, namespace=name)
    for order, (stage, limit) in enumerate((("docker-dev", "4000"), ("docker-qa", "250"))):
        stage_block(
            stage,
            order=20 + order,
            runtime="docker",
            registry=name,
            docker=config,
            settings={"expenses": {"ApprovalLimit": limit}},
        )
    yield config
    runtime = DockerRuntime(config, client=docker_engine.client)
    for stage in ("docker-dev", "docker-qa"):
        runtime.undeploy(stage, "expenses")
    Registry.delete(name)


def test_publish_and_promote_across_two_docker_stages(
    published_libraries: Path,
    docker_stages: DockerRuntimeConfig,
    docker_engine: DockerEngine,  # noqa: F811
    registry: RunningRegistry,
) -> None:
    dev = publish_app(str(EXAMPLES / "expenses"), "docker-dev")
    assert dev.image_reference == (f"{registry.host}/{RUNTIME_PREFIX}/expenses@{dev.image_digest}")
    if SKOPEO is not None:
        assert skopeo_inspect(dev.image_reference)["Digest"] == dev.image_digest
    created = httpx.post(f"{dev.url}/api/employee", json={"Name": "Eve"})
    assert created.status_code == 201, created.text

    qa = promote_app("expenses", "docker-dev", "docker-qa")
    assert (qa.version, qa.image_digest) == (dev.version, dev.image_digest)
    assert qa.url != dev.url

    client = docker_engine.client
    containers = client.containers.list(
        filters={"label": [f"{LABEL}.namespace={docker_stages.namespace}", f"{LABEL}.app=expenses"]}
    )
    containers = [c for c in containers if c.labels.get(f"{LABEL}.role") != "address"]
    by_stage = {c.labels[f"{LABEL}.stage"]: c for c in containers}
    assert set(by_stage) == {"docker-dev", "docker-qa"}
    assert {c.labels[f"{LABEL}.digest"] for c in containers} == {dev.image_digest}
    assert by_stage["docker-dev"].image.id == by_stage["docker-qa"].image.id

    dev_meta = httpx.get(f"{dev.url}/api/_meta").json()
    qa_meta = httpx.get(f"{qa.url}/api/_meta").json()
    assert (
        str(dev_meta["settings"]["ApprovalLimit"]),
        str(qa_meta["settings"]["ApprovalLimit"]),
    ) == (
        "4000",
        "250",
    )
    assert [e["Name"] for e in httpx.get(f"{dev.url}/api/employee").json()["items"]] == ["Eve"]
    assert httpx.get(f"{qa.url}/api/employee").json()["items"] == []
    for container in containers:  # secrets only in the container's environment
        image_config = json.dumps(container.image.attrs["Config"])
        assert SECRET not in json.dumps(container.labels) + image_config
        assert SECRET not in container.logs().decode(errors="replace")

    status = CliRunner().invoke(cli, ["status", "expenses"])
    assert status.exit_code == 0, status.output
    rows = {line.split()[1]: line.split() for line in status.output.splitlines()[1:] if line}
    for stage, container in by_stage.items():
        assert rows[stage][7] == f"container:{container.id[:12]}"
        assert rows[stage][8] == "ready"

    undeployed = CliRunner().invoke(cli, ["undeploy", "expenses", "--stage", "docker-qa"])
    assert undeployed.exit_code == 0, undeployed.output
    left = client.containers.list(
        all=True, filters={"label": [f"{LABEL}.namespace={docker_stages.namespace}"]}
    )
    kinds = sorted((c.labels[f"{LABEL}.stage"], c.labels.get(f"{LABEL}.role", "")) for c in left)
    assert kinds == [("docker-dev", ""), ("docker-dev", "address")]  # the app and its address
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{qa.url}/readyz")


def test_a_docker_stage_cannot_run_an_image_that_only_this_machine_has(
    published_libraries: Path, stage_block: Callable[..., str]
) -> None:
    stage_block("docker-nowhere", order=30, runtime="docker")
    with pytest.raises(Exception, match="give the stage that publishes it a registry"):
        publish_app(str(EXAMPLES / "expenses"), "docker-nowhere")
