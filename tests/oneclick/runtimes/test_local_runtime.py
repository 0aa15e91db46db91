"""LocalRuntime: real uvicorn processes started from unpacked images, talked to over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from oneclick.errors import DeployError
from oneclick.images import ImageResult
from oneclick.runtimes import DeployRequest, DeployResult, LocalRuntime, Runtime

Publish = Callable[..., ImageResult]
FindProcesses = Callable[[str], list[int]]
SECRET = "s3cr3t-Value-9f2c"
DB_PASSWORD = "pw-7d1e-hunter2"


def request_for(
    image: ImageResult, layout: Path, *, stage: str = "development", app: str = "expenses",
    timeout: float = 15.0, env: dict[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> DeployRequest:  # fmt: skip
    return DeployRequest(
        stage=stage,
        app=app,
        release=image.tag,
        image_root=layout,
        image_digest=image.digest,
        env=env if env is not None else {"ONECLICK_SETTING_Greeting": "hi"},
        ready_timeout=timeout,
        on_progress=progress,
    )


def get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=5.0, trust_env=False)


def refuses(url: str) -> bool:
    """Nothing listens at ``url``. A connection reset means a listener was just killed with
    this connection still in its queue: not refused yet, ask again."""
    try:
        get(url)
    except httpx.ConnectError:
        return True
    except (httpx.ReadError, httpx.RemoteProtocolError):
        return False
    return False


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/cmdline").read_bytes() != b""


def test_local_runtime_meets_the_interface(tmp_path: Path) -> None:
    runtime: Runtime = LocalRuntime(tmp_path)
    assert runtime.instances() == []


def test_deploy_serves_the_app(
    runtime: LocalRuntime, publish: Publish, layout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONECLICK_HOME", "/not/for/the/app")
    messages: list[str] = []
    image = publish("1.0.0")
    result = runtime.deploy(request_for(image, layout, progress=messages.append))

    info = get(f"{result.url}/info").json()
    assert info["version"] == "1.0.0"
    assert info["libraries"] == ["finance-common"]
    assert info["greeting"] == "hi"
    assert info["image_default"] == "hello from the image"
    assert info["inherited_oneclick"] == [], "ONECLICK_* of the deploying process stay out"
    assert Path(info["cwd"]).name == "app"
    assert result.previous_release is None
    assert (result.release, result.digest) == ("1.0.0", image.digest)
    assert any("ready" in message for message in messages)

    status = runtime.status("development", "expenses")
    assert status is not None
    assert (status.alive, status.healthy, status.pid, status.url) == (
        True, True, result.pid, result.url,
    )  # fmt: skip
    assert [s.app for s in runtime.instances()] == ["expenses"]
    assert runtime.status("qa", "expenses") is None


def test_redeploy_replaces_the_previous_release(
    runtime: LocalRuntime, publish: Publish, layout: Path
) -> None:
    first = runtime.deploy(request_for(publish("1.0.0"), layout))
    second = runtime.deploy(request_for(publish("1.1.0"), layout))

    assert second.previous_release == "1.0.0"
    assert second.url == first.url, "the stage address stays"
    assert get(f"{second.url}/info").json()["version"] == "1.1.0"
    assert not pid_exists(first.pid)
    assert first.instance_url is not None and first.instance_url != second.instance_url
    assert refuses(f"{first.instance_url}/healthz")
    status = runtime.status("development", "expenses")
    assert status is not None and (status.release, status.alive) == ("1.1.0", True)


def test_release_that_never_gets_ready_leaves_the_previous_running(
    runtime: LocalRuntime, publish: Publish, layout: Path, find_processes: FindProcesses
) -> None:
    first = runtime.deploy(request_for(publish("1.0.0"), layout))
    bad = publish("1.1.0", "never-ready")
    started = time.monotonic()
    with pytest.raises(DeployError) as caught:
        runtime.deploy(request_for(bad, layout, timeout=1.5))
    assert time.monotonic() - started < 10

    message = str(caught.value)
    assert "expenses 1.1.0 did not become ready on stage development" in message
    assert "not ready within 1.5 s" in message
    assert "told never to be ready" in message
    assert "GET /readyz" in message, "the end of the new process's log is shown"
    assert find_processes(bad.digest.removeprefix("sha256:")) == []

    assert get(f"{first.url}/info").json()["version"] == "1.0.0"
    status = runtime.status("development", "expenses")
    assert status is not None
    assert (status.release, status.pid, status.healthy) == ("1.0.0", first.pid, True)


def test_release_made_not_ready_by_a_setting(
    runtime: LocalRuntime, publish: Publish, layout: Path
) -> None:
    image = publish("1.0.0")
    env = {"ONECLICK_SETTING_NeverReady": "yes"}
    with pytest.raises(DeployError, match="told never to be ready"):
        runtime.deploy(request_for(image, layout, timeout=1.0, env=env))
    assert runtime.status("development", "expenses") is None


def test_crash_is_reported_with_secrets_scrubbed(
    runtime: LocalRuntime, publish: Publish, layout: Path
) -> None:
    image = publish("1.0.0", "leak-and-crash")
    env = {
        "ONECLICK_SECRET_ApiKey": SECRET,
        "ONECLICK_DATABASE_URL": f"postgresql://app:{DB_PASSWORD}@127.0.0.1:5432/expenses",
    }
    with pytest.raises(DeployError) as caught:
        runtime.deploy(request_for(image, layout, env=env))
    message = str(caught.value)
    assert "exited with code 3" in message
    assert "secret: ***" in message
    assert "postgresql://app:***@127.0.0.1:5432/expenses" in message
    assert SECRET not in message and DB_PASSWORD not in message
    assert SECRET not in repr(caught.value.args)


def test_environment_values_never_reach_disk(
    runtime: LocalRuntime, publish: Publish, layout: Path, tmp_path: Path
) -> None:
    image = publish("1.0.0")
    env = {
        "ONECLICK_SECRET_ApiKey": SECRET,
        "ONECLICK_DATABASE_URL": f"postgresql://app:{DB_PASSWORD}@127.0.0.1:1/expenses",
    }
    request = request_for(image, layout, env=env)
    assert SECRET not in repr(request) and SECRET not in str(request)
    result = runtime.deploy(request)
    assert get(f"{result.url}/info").json()["secret_present"] is True
    runtime.stop("development", "expenses")

    assert SECRET not in repr(result)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".log" for p in written)
    for path in written:
        data = path.read_bytes()
        assert SECRET.encode() not in data, f"the secret is in {path}"
        assert DB_PASSWORD.encode() not in data, f"the database password is in {path}"


def test_stale_state_is_reported_not_alive(
    runtime: LocalRuntime, publish: Publish, layout: Path
) -> None:
    result = runtime.deploy(request_for(publish("1.0.0"), layout))
    os.kill(result.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while (status := runtime.status("development", "expenses")) and status.alive:
        assert time.monotonic() < deadline, "a killed process still counts as alive"
        time.sleep(0.05)
    assert status is not None and (status.alive, status.healthy) == (False, False)

    broken = runtime.root / "state" / "qa" / "broken.json"
    broken.parent.mkdir(parents=True)
    broken.write_text("{not json")
    assert [(s.stage, s.alive) for s in runtime.instances()] == [("development", False)]
    assert runtime.stop("development", "expenses") is False

    again = runtime.deploy(request_for(publish("1.1.0"), layout))
    assert again.previous_release == "1.0.0"
    assert runtime.undeploy("development", "expenses") is True
    assert runtime.status("development", "expenses") is None
    assert refuses(f"{again.url}/healthz")


def test_recycled_pid_is_not_mistaken_for_the_app(
    runtime: LocalRuntime, publish: Publish, layout: Path
) -> None:
    result = runtime.deploy(request_for(publish("1.0.0"), layout))
    runtime.stop("development", "expenses")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        path = runtime.state.record_path("development", "expenses")
        record = json.loads(path.read_text())
        path.write_text(json.dumps({**record, "pid": other.pid}))
        status = runtime.status("development", "expenses")
        assert status is not None and status.alive is False
        assert runtime.stop("development", "expenses") is False
        assert other.poll() is None, "an unrelated process with the recorded pid is left alone"
    finally:
        other.kill()
        other.wait()
    assert result.pid != other.pid


def test_stop_all_leaves_no_process(
    runtime: LocalRuntime, publish: Publish, layout: Path, find_processes: FindProcesses
) -> None:
    image = publish("1.0.0")
    results = [
        runtime.deploy(request_for(image, layout, stage="development")),
        runtime.deploy(request_for(image, layout, stage="qa")),
        runtime.deploy(request_for(publish("2.0.0", app="payroll"), layout, app="payroll")),
    ]
    assert len({r.port for r in results}) == 3
    stopped = runtime.stop_all()
    assert sorted((s.stage, s.app) for s in stopped) == [
        ("development", "expenses"), ("development", "payroll"), ("qa", "expenses"),
    ]  # fmt: skip
    assert all(not s.alive for s in runtime.instances())
    assert find_processes(str(runtime.root)) == []
    for result in results:
        assert refuses(f"{result.url}/healthz")
    assert runtime.stop_all() == []


def test_instance_outlives_the_deploying_process(
    runtime: LocalRuntime, publish: Publish, layout: Path
) -> None:
    image = publish("1.0.0")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from oneclick.runtimes import DeployRequest, LocalRuntime\n"
        "runtime = LocalRuntime(Path(sys.argv[1]), poll_interval=0.1)\n"
        "result = runtime.deploy(DeployRequest(stage='development', app='expenses',\n"
        "    release='1.0.0', image_root=Path(sys.argv[2]), image_digest=sys.argv[3],\n"
        "    ready_timeout=15))\n"
        "print(result.pid)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(runtime.root), str(layout), image.digest],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    status = runtime.status("development", "expenses")
    assert status is not None
    assert status.pid == int(done.stdout.strip())
    assert (status.alive, status.healthy) == (True, True)
    assert runtime.stop("development", "expenses") is True
    assert refuses(f"{status.url}/healthz")


def test_deploys_to_one_stage_take_turns(
    runtime: LocalRuntime, publish: Publish, layout: Path, find_processes: FindProcesses
) -> None:
    images = [publish("1.0.0"), publish("1.1.0")]
    results: list[DeployResult] = []
    errors: list[BaseException] = []

    def deploy(image: ImageResult) -> None:
        try:
            results.append(runtime.deploy(request_for(image, layout)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=deploy, args=(image,)) for image in images]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    first, last = results
    assert (first.previous_release, last.previous_release) == (None, first.release)
    status = runtime.status("development", "expenses")
    assert status is not None and (status.release, status.alive) == (last.release, True)
    address = runtime.addresses.read("development", "expenses")
    assert address is not None
    assert sorted(find_processes(str(runtime.root))) == sorted([last.pid, address.pid])


def test_missing_image_is_a_deploy_error(tmp_path: Path, runtime: LocalRuntime) -> None:
    request = DeployRequest(
        stage="development",
        app="expenses",
        release="1.0.0",
        image_root=tmp_path / "nowhere",
        image_digest="sha256:" + "0" * 64,
    )
    with pytest.raises(DeployError, match="cannot be unpacked"):
        runtime.deploy(request)
