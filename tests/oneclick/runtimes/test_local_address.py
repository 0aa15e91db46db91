"""The local runtime's stable stage address: one URL per (stage, app) across releases,
rollbacks, failed deploys, a SIGKILLed proxy and a stop of everything; a request loop sees no
failure during a switch (real processes, real HTTP)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from oneclick.errors import DeployError
from oneclick.images import ImageResult
from oneclick.runtimes import LocalRuntime
from oneclick.runtimes.local import server_command
from oneclick.runtimes.state import STARTING
from tests.flows.rollout_support import LoadLoop, wait_for
from tests.oneclick.runtimes.test_local_runtime import refuses, request_for

Publish = Callable[..., ImageResult]
FindProcesses = Callable[[str], list[int]]
STAGE, APP = "development", "expenses"


def version(url: str) -> str:
    return str(httpx.get(f"{url}/info", timeout=5, trust_env=False).json()["version"])


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10) as opened:
        yield opened


def test_the_address_stays_across_releases_and_a_rollback(
    runtime: LocalRuntime, publish: Publish, layout: Path
) -> None:
    old, new = publish("1.0.0"), publish("1.1.0")
    first = runtime.deploy(request_for(old, layout))
    second = runtime.deploy(request_for(new, layout))
    back = runtime.deploy(request_for(old, layout))  # a rollback deploys the old image again

    assert first.url == second.url == back.url
    assert len({first.instance_url, second.instance_url, back.instance_url}) == 3
    assert version(back.url) == "1.0.0"
    address = runtime.addresses.read(STAGE, APP)
    assert address is not None and address.url == first.url
    assert first.url == f"http://127.0.0.1:{address.port}"
    status = runtime.status(STAGE, APP)
    assert status is not None
    assert (status.url, status.instance_url, status.alive) == (back.url, back.instance_url, True)
    other = runtime.deploy(request_for(old, layout, stage="qa"))
    assert other.url != first.url, "each (stage, app) has an address of its own"


def test_no_request_fails_while_the_address_switches(
    runtime: LocalRuntime, publish: Publish, layout: Path
) -> None:
    url = runtime.deploy(request_for(publish("1.0.0"), layout)).url
    images = [publish("1.1.0"), publish("1.2.0")]
    seen: set[str] = set()

    def locate() -> str:
        seen.add(version(url))
        return url

    with LoadLoop(locate, paths=("/info", "/readyz", "/echo/x")) as load:
        for image in images:
            runtime.deploy(request_for(image, layout))
        wait_for(lambda: "1.2.0" in seen, timeout=10)
    assert load.failures == [] and load.ok > 50, (load.ok, load.failures[:5])
    assert seen == {"1.0.0", "1.1.0", "1.2.0"}


def test_a_failed_deploy_leaves_the_address_serving_the_previous_release(
    runtime: LocalRuntime, publish: Publish, layout: Path
) -> None:
    url = runtime.deploy(request_for(publish("1.0.0"), layout)).url
    bad = publish("1.1.0", "never-ready")
    with LoadLoop(lambda: url, paths=("/info",)) as load, pytest.raises(DeployError):
        runtime.deploy(request_for(bad, layout, timeout=1.5))
    assert load.failures == [] and load.ok > 20, (load.ok, load.failures[:5])
    assert version(url) == "1.0.0"


def test_a_killed_proxy_is_restarted_on_its_port_by_the_next_deploy(
    runtime: LocalRuntime, publish: Publish, layout: Path, find_processes: FindProcesses
) -> None:
    image = publish("1.0.0")
    first = runtime.deploy(request_for(image, layout))
    address = runtime.addresses.read(STAGE, APP)
    assert address is not None
    os.kill(address.pid, signal.SIGKILL)
    wait_for(lambda: refuses(f"{first.url}/healthz"), timeout=10)
    status = runtime.status(STAGE, APP)
    assert status is not None and (status.alive, status.healthy) == (False, False)

    again = runtime.deploy(request_for(image, layout))
    assert again.url == first.url and version(again.url) == "1.0.0"
    restarted = runtime.addresses.read(STAGE, APP)
    assert restarted is not None and restarted.pid != address.pid
    assert (restarted.port, runtime.addresses.running(restarted)) == (address.port, True)
    assert sorted(find_processes(str(runtime.root))) == sorted([again.pid, restarted.pid])


def test_stop_all_then_a_deploy_of_the_recorded_release_brings_back_the_same_address(
    runtime: LocalRuntime, publish: Publish, layout: Path, find_processes: FindProcesses
) -> None:
    image = publish("1.0.0")
    first = runtime.deploy(request_for(image, layout))
    assert {s.app for s in runtime.stop_all()} == {APP}
    assert refuses(f"{first.url}/healthz"), "down stops the address too"
    assert find_processes(str(runtime.root)) == []
    status = runtime.status(STAGE, APP)
    assert status is not None and status.release == "1.0.0" and not status.alive

    restored = runtime.deploy(request_for(image, layout))  # what `oneclick up` does
    assert restored.url == first.url and version(restored.url) == "1.0.0"


def test_the_proxy_forwards_methods_bodies_and_headers(
    runtime: LocalRuntime, publish: Publish, layout: Path, client: httpx.Client
) -> None:
    url = runtime.deploy(request_for(publish("1.0.0"), layout)).url
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = client.request(
            method,
            f"{url}/echo/items/7?q=a%20b&n=1",
            json={"Name": "Ann", "Amount": "12.50"},
            headers={"X-Custom": "kept", "Connection": "keep-alive, X-Hop", "X-Hop": "dropped"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["method"], body["path"], body["query"]) == (
            method,
            "/echo/items/7",
            "q=a%20b&n=1",
        )
        assert body["json"] == {"Name": "Ann", "Amount": "12.50"}
        assert body["headers"]["x-custom"] == "kept" and "x-hop" not in body["headers"]
        assert body["headers"]["x-forwarded-proto"] == "http"
        assert (response.headers["x-echo"], response.headers["set-cookie"]) == ("yes", "a=1")
    assert client.get(f"{url}/echo/x?status=404").status_code == 404
    assert client.head(f"{url}/healthz").status_code in (200, 405)

    big = b"{" + os.urandom(3 * 1024 * 1024)  # binary, even when it starts like JSON
    assert client.post(f"{url}/echo/big", content=big).json()["length"] == len(big)

    def chunks() -> Iterator[bytes]:
        yield b'{"Name": '
        yield b'"streamed"}'

    json_type = {"Content-Type": "application/json"}
    chunked = client.post(f"{url}/echo/chunked", content=chunks(), headers=json_type).json()
    assert chunked["json"] == {"Name": "streamed"}
    address = runtime.addresses.read(STAGE, APP)
    assert address is not None
    assert b"ONECLICK_" not in Path(f"/proc/{address.pid}/environ").read_bytes()


def test_a_process_recorded_before_its_pid_is_found_and_stopped(
    runtime: LocalRuntime, publish: Publish, layout: Path, find_processes: FindProcesses
) -> None:
    """A deploy SIGKILLed between recording its new process (pid 0) and learning its pid
    leaves that process running: reap finds it by its command line."""
    runtime.deploy(request_for(publish("1.0.0"), layout))
    current = runtime.state.read(STAGE, APP)
    assert current is not None
    orphan = subprocess.Popen(
        server_command(Path(current.app_dir), port := current.port + 1),
        cwd=current.app_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        record = current.model_copy(update={"pid": 0, "port": port, "release": "1.1.0"})
        runtime.state.write(record, STARTING)
        assert orphan.pid in find_processes(f"--port\0{port}")
        assert runtime.reap(STAGE, APP) == ["starting expenses 1.1.0 (process not recorded)"]
        assert orphan.wait(10) is not None
        assert runtime.state.read(STAGE, APP, STARTING) is None
        assert version(runtime.deploy(request_for(publish("1.2.0"), layout)).url) == "1.2.0"
    finally:
        if orphan.poll() is None:
            orphan.kill()
            orphan.wait()
