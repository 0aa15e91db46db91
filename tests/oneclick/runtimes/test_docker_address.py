"""The docker runtime's stable stage address against a real engine: one URL per (stage, app)
across releases, a rollback and a failed deploy, no failed request during a switch, and a
killed or removed proxy container brought back on the same port by the next deploy, and an
address that follows its instance to another IP address on a network of the stage's own."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from docker.models.containers import Container

from oneclick.errors import DeployError
from oneclick.images import ImageResult
from oneclick.images.spec import ImageSpec
from oneclick.runtimes.docker import DockerRuntime
from tests.docker_fixture import DockerEngine, docker_base_image, docker_engine, leftover
from tests.flows.rollout_support import LoadLoop
from tests.oneclick.runtimes.test_docker_runtime import example, request_for, runtime

__all__ = ["docker_base_image", "docker_engine", "example", "runtime"]

Example = tuple[ImageSpec, ImageResult]


def readyz_status(url: str) -> int:
    return httpx.get(f"{url}/readyz", timeout=5, trust_env=False).status_code


def proxy_of(runtime: DockerRuntime) -> Container:
    proxy = runtime.addresses.find("test", "expenses")
    assert proxy is not None
    return proxy


@pytest.fixture
def loaded(runtime: DockerRuntime, example: Example, tmp_path: Path) -> Iterator[str]:
    """The example app deployed once; yields its address."""
    yield runtime.deploy(request_for(example, tmp_path, "1.0.0")).url


def test_the_address_stays_across_releases_a_rollback_and_a_failed_deploy(
    runtime: DockerRuntime, example: Example, tmp_path: Path, loaded: str
) -> None:
    with LoadLoop(lambda: loaded) as load:
        second = runtime.deploy(request_for(example, tmp_path, "1.0.1"))
        back = runtime.deploy(request_for(example, tmp_path, "1.0.0"))  # a rollback
        broken = request_for(example, tmp_path, "1.0.2", ApprovalLimit="lots")
        with pytest.raises(DeployError):
            runtime.deploy(broken.model_copy(update={"ready_timeout": 4.0}))
    assert load.failures == [] and load.ok > 50, (load.ok, load.failures[:5])
    assert loaded == second.url == back.url
    assert len({second.instance_url, back.instance_url, loaded}) == 3
    status = runtime.status("test", "expenses")
    assert status is not None and (status.url, status.release) == (loaded, "1.0.0")
    assert status.alive and status.healthy and status.instance_url == back.instance_url
    proxy = proxy_of(runtime)
    assert proxy.labels["dev.oneclick.url"] == loaded
    assert [i.release for i in runtime.instances()] == ["1.0.0"], "the proxy is no instance"

    assert runtime.undeploy("test", "expenses") is True
    assert leftover(runtime.client, runtime.config.namespace) == []


def test_a_killed_or_removed_proxy_comes_back_on_its_port_with_the_next_deploy(
    runtime: DockerRuntime, example: Example, tmp_path: Path, loaded: str
) -> None:
    proxy_of(runtime).kill()  # SIGKILL
    status = runtime.status("test", "expenses")
    assert status is not None and not status.alive and not status.healthy
    again = runtime.deploy(request_for(example, tmp_path, "1.0.1"))
    assert again.url == loaded and readyz_status(loaded) == 200

    proxy_of(runtime).remove(force=True)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{loaded}/readyz", timeout=5, trust_env=False)
    once_more = runtime.deploy(request_for(example, tmp_path, "1.0.2"))
    assert once_more.url == loaded and readyz_status(loaded) == 200
    assert runtime.stop("test", "expenses") is True
    assert proxy_of(runtime).status == "exited"


def test_two_apps_deployed_at_once_from_two_workers_get_addresses_of_their_own(
    runtime: DockerRuntime, example: Example, tmp_path: Path
) -> None:
    other = DockerRuntime(runtime.config)  # another worker's runtime: no lock in common
    requests = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        request = request_for(example, tmp_path / name, "1.0.0")
        requests.append(request.model_copy(update={"app": f"expenses-{name}"}))
    try:
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda r, q: r.deploy(q), (runtime, other), requests))
    finally:
        other.client.close()
    urls = {result.url for result in results}
    assert len(urls) == 2, urls
    assert all(readyz_status(url) == 200 for url in urls)


@pytest.fixture
def networked(runtime: DockerRuntime, docker_engine: DockerEngine) -> Iterator[DockerRuntime]:
    """The runtime on a bridge network of its own (removed afterwards, with its containers)."""
    name = f"{runtime.config.namespace}-net"
    network = docker_engine.client.networks.create(name, driver="bridge")
    on_network = DockerRuntime(runtime.config.model_copy(update={"network": name}))
    try:
        yield on_network
    finally:
        on_network.client.close()
        network.reload()
        for container in network.containers:
            container.remove(force=True)
        network.remove()


def test_on_a_network_of_its_own_the_address_follows_the_instance_to_another_ip(
    networked: DockerRuntime, example: Example, tmp_path: Path
) -> None:
    """An engine restart may give a container another IP address: the proxy forwards to
    the instance by name, which the engine's DNS resolves to wherever it is now."""
    first = networked.deploy(request_for(example, tmp_path, "1.0.0"))
    assert readyz_status(first.url) == 200
    second = networked.deploy(request_for(example, tmp_path, "1.0.1"))  # a switch by name
    assert second.url == first.url and readyz_status(second.url) == 200
    network = networked.client.networks.get(networked.config.network)
    instance = networked.client.containers.get(str(second.container))
    before = instance.attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"]
    network.disconnect(instance)
    taken = []  # the address it had goes to another container, as after a restart
    while before not in taken and len(taken) < 5:
        other = networked.client.containers.run(
            str(instance.attrs["Image"]),
            ["python", "-c", "import time; time.sleep(600)"],
            detach=True,
            network=network.name,
            labels={"dev.oneclick.namespace": networked.config.namespace},
        )
        other.reload()
        taken.append(other.attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"])
    network.connect(instance)
    instance.reload()
    after = instance.attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"]
    assert before in taken and after != before, (before, taken, after)
    assert readyz_status(second.url) == 200
    status = networked.status("test", "expenses")
    assert status is not None and status.alive and status.healthy
