"""The docker stage runtime against a real engine, running the compiled example app."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import docker.errors
import httpx
import pytest
from docker.models.containers import Container

from oneclick.errors import DeployError
from oneclick.images import ImageResult
from oneclick.images.docker_backend import DockerImageBuilder
from oneclick.images.spec import ImageSpec
from oneclick.runtimes import DeployRequest
from oneclick.runtimes.docker import DockerRuntime, DockerRuntimeConfig
from tests.docker_fixture import (
    DockerEngine,
    docker_base_image,
    docker_engine,
    example_database,
    example_spec,
    leftover,
)
from tests.support import SECRET

__all__ = ["docker_base_image", "docker_engine"]

_namespaces = itertools.count()


@pytest.fixture(scope="module")
def example(
    docker_engine: DockerEngine,
    docker_base_image: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ImageSpec, ImageResult]]:
    """The example app built into the engine once for this module; removed afterwards."""
    spec = example_spec(tmp_path_factory.mktemp("example"))
    result = DockerImageBuilder(docker_engine.client, base=docker_base_image).build(spec)
    yield spec, result
    docker_engine.client.images.remove(result.reference, force=True)


@pytest.fixture
def runtime(docker_engine: DockerEngine, tmp_path: Path) -> Iterator[DockerRuntime]:
    """A docker runtime of its own namespace; every container it made is gone afterwards."""
    low = random.randrange(20000, 60000, 100)
    config = DockerRuntimeConfig(
        engine_url=docker_engine.url,
        namespace=f"test-{next(_namespaces)}-{low}",
        port_range=(low, low + 99),
        volumes=(str(tmp_path),),
        poll_interval=0.1,
        stop_timeout=2,
    )
    docker = DockerRuntime(config)
    yield docker
    for container in docker.client.containers.list(
        all=True, filters={"label": f"dev.oneclick.namespace={config.namespace}"}
    ):
        container.remove(force=True)
    docker.client.close()


def request_for(
    example: tuple[ImageSpec, ImageResult], tmp_path: Path, release: str, **settings: str
) -> DeployRequest:
    spec, result = example
    database = tmp_path / "expenses.db"
    url = f"sqlite:///{database}" if database.exists() else example_database(tmp_path, spec)
    env = {
        "ONECLICK_DATABASE_URL": url,
        "ONECLICK_SETTING_ApprovalLimit": "500",
        "ONECLICK_SECRET_PaymentsApiKey": SECRET,
        **{f"ONECLICK_SETTING_{name}": value for name, value in settings.items()},
    }
    return DeployRequest(
        stage="test",
        app="expenses",
        release=release,
        image_root=tmp_path,
        image_digest=result.digest,
        image_reference=result.reference,
        env=env,
        ready_timeout=30,
    )


def test_deploy_serves_the_app_replaces_it_and_undeploys(
    runtime: DockerRuntime, example: tuple[ImageSpec, ImageResult], tmp_path: Path
) -> None:
    progress: list[str] = []
    first = runtime.deploy(
        request_for(example, tmp_path, "1.0.0").model_copy(update={"on_progress": progress.append})
    )
    page = httpx.get(first.url + "/", trust_env=False, follow_redirects=True)
    assert page.status_code == 200 and "Expenses" in page.text
    assert httpx.get(first.url + "/readyz", trust_env=False).status_code == 200
    status = runtime.status("test", "expenses")
    assert status is not None and status.alive and status.healthy
    assert (status.release, status.container, status.port) == ("1.0.0", first.container, first.port)
    assert any("started expenses 1.0.0" in line for line in progress)

    second = runtime.deploy(request_for(example, tmp_path, "1.0.1"))
    assert second.previous_release == "1.0.0"
    assert second.container != first.container
    assert [i.release for i in runtime.instances()] == ["1.0.1"]
    assert httpx.get(second.url + "/readyz", trust_env=False).status_code == 200
    labels = runtime.client.containers.get(str(second.container)).labels
    assert labels["dev.oneclick.app"] == "expenses"
    assert labels["dev.oneclick.stage"] == "test"
    assert labels["dev.oneclick.release"] == "1.0.1"
    assert labels["dev.oneclick.digest"] == example[1].digest

    assert runtime.undeploy("test", "expenses") is True
    assert runtime.status("test", "expenses") is None
    assert leftover(runtime.client, runtime.config.namespace) == []
    assert runtime.undeploy("test", "expenses") is False


def test_a_release_that_never_gets_ready_leaves_the_previous_one_serving(
    runtime: DockerRuntime, example: tuple[ImageSpec, ImageResult], tmp_path: Path
) -> None:
    first = runtime.deploy(request_for(example, tmp_path, "1.0.0"))
    broken = request_for(example, tmp_path, "1.0.1", ApprovalLimit="lots").model_copy(
        update={"ready_timeout": 8.0}
    )
    with pytest.raises(DeployError) as caught:
        runtime.deploy(broken)
    message = str(caught.value)
    assert "1.0.1 did not become ready" in message and "503" in message
    assert "ApprovalLimit" in message
    previous = runtime.client.containers.get(str(first.container))
    assert f"{previous.name} keeps serving" in message
    assert SECRET not in message
    assert [i.release for i in runtime.instances()] == ["1.0.0"]
    assert httpx.get(first.url + "/readyz", trust_env=False).status_code == 200


def test_an_aborted_rollout_removes_the_new_container(
    runtime: DockerRuntime, example: tuple[ImageSpec, ImageResult], tmp_path: Path
) -> None:
    aborted = request_for(example, tmp_path, "1.0.0").model_copy(
        update={"abort": lambda: "the schema change failed"}
    )
    with pytest.raises(DeployError, match="abandoned: the schema change failed"):
        runtime.deploy(aborted)
    assert leftover(runtime.client, runtime.config.namespace) == []


def test_no_secret_in_labels_image_config_or_logs(
    runtime: DockerRuntime, example: tuple[ImageSpec, ImageResult], tmp_path: Path
) -> None:
    deployed = runtime.deploy(request_for(example, tmp_path, "1.0.0"))
    for path in ("/", "/readyz", "/healthz", "/missing"):
        httpx.get(deployed.url + path, trust_env=False)
    container = runtime.client.containers.get(str(deployed.container))
    image = runtime.client.images.get(example[1].reference)
    assert SECRET not in json.dumps(container.labels)
    assert SECRET not in json.dumps(image.attrs)
    assert SECRET not in json.dumps(runtime.client.api.history(image.id))
    logs = container.logs().decode()
    assert "GET /readyz" in logs
    assert SECRET not in logs
    assert SECRET not in json.dumps([s.model_dump() for s in runtime.instances()])


def test_a_release_without_an_image_reference_is_refused(
    runtime: DockerRuntime, example: tuple[ImageSpec, ImageResult], tmp_path: Path
) -> None:
    request = request_for(example, tmp_path, "1.0.0").model_copy(update={"image_reference": None})
    with pytest.raises(DeployError, match="no image reference"):
        runtime.deploy(request)
    missing = request.model_copy(update={"image_reference": "sha256:" + "0" * 64})
    with pytest.raises(DeployError, match="not in the engine"):
        runtime.deploy(missing)


def restart_policy(container: Container) -> str:
    container.reload()
    return str(container.attrs["HostConfig"]["RestartPolicy"]["Name"])


def crash(container: Container) -> None:
    """End the container's main process from outside, as a crash would: no stop the engine
    was asked for."""
    container.reload()
    os.kill(int(container.attrs["State"]["Pid"]), signal.SIGKILL)


def answers_again(url: str, container: Container, restarts: int, within: float = 30.0) -> bool:
    """True once ``container`` was started again ``restarts`` times and ``url`` answers."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        container.reload()
        if container.attrs["RestartCount"] >= restarts and container.status == "running":
            try:
                if httpx.get(f"{url}/readyz", timeout=2, trust_env=False).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    return False


def test_the_engine_restarts_an_instance_and_its_address_unless_oneclick_stopped_them(
    runtime: DockerRuntime, example: tuple[ImageSpec, ImageResult], tmp_path: Path
) -> None:
    first = runtime.deploy(request_for(example, tmp_path, "1.0.0"))
    instance = runtime.client.containers.get(str(first.container))
    proxy = runtime.addresses.find("test", "expenses")
    assert proxy is not None
    assert restart_policy(instance) == restart_policy(proxy) == "unless-stopped"

    crash(instance)
    assert answers_again(first.url, instance, 1), instance.status
    crash(proxy)
    assert answers_again(first.url, proxy, 1), proxy.status
    status = runtime.status("test", "expenses")
    assert status is not None and status.alive and status.healthy
    assert (status.container, status.release) == (first.container, "1.0.0")

    second = runtime.deploy(request_for(example, tmp_path, "1.0.1"))
    with pytest.raises(docker.errors.NotFound):  # retired: nothing left to start again
        runtime.client.containers.get(str(first.container))
    replaced = runtime.client.containers.get(str(second.container))
    assert restart_policy(replaced) == "unless-stopped"

    assert runtime.stop("test", "expenses") is True
    restarts = {container.id: container.attrs["RestartCount"] for container in (replaced, proxy)}
    time.sleep(3)  # long past the engine's first pause before a restart
    for container in (replaced, proxy):
        container.reload()
        assert (container.status, container.attrs["RestartCount"]) == (
            "exited",
            restarts[container.id],
        ), "a container oneclick stopped stays stopped"
    assert runtime.undeploy("test", "expenses") is True
    assert leftover(runtime.client, runtime.config.namespace) == []


def test_a_release_whose_server_exits_fails_at_once_and_is_not_restarted(
    runtime: DockerRuntime,
    example: tuple[ImageSpec, ImageResult],
    docker_base_image: str,
    tmp_path: Path,
) -> None:
    """An image without the app: its server exits at start. The engine does not start it
    over and over (it gets the restart policy only once ready), so the deploy sees it exit,
    fails before its ready timeout and leaves nothing behind."""
    request = request_for(example, tmp_path, "1.0.0").model_copy(
        update={"image_reference": docker_base_image, "ready_timeout": 25.0}
    )
    started = time.monotonic()
    with pytest.raises(DeployError, match="exited with code 1"):
        runtime.deploy(request)
    assert time.monotonic() - started < 20
    assert leftover(runtime.client, runtime.config.namespace) == []
