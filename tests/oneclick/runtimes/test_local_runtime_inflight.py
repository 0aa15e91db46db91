"""LocalRuntime while a deploy is in flight: the switch held back, and what a killed deploy
leaves found and stopped (real processes, a real SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from oneclick.images import ImageResult
from oneclick.runtimes import LocalRuntime
from oneclick.runtimes.state import RETIRING, STARTING
from tests.oneclick.runtimes.test_local_runtime import request_for

Publish = Callable[..., ImageResult]
FindProcesses = Callable[[str], list[int]]

DEPLOY = (
    "import sys\n"
    "from pathlib import Path\n"
    "from oneclick.runtimes import DeployRequest, LocalRuntime\n"
    "runtime = LocalRuntime(Path(sys.argv[1]), poll_interval=0.1)\n"
    "runtime.deploy(DeployRequest(stage='development', app='expenses',\n"
    "    release=sys.argv[4], image_root=Path(sys.argv[2]), image_digest=sys.argv[3],\n"
    "    ready_timeout=120))\n"
)


def wait_for(condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_switch_waits_while_the_request_holds_it(
    runtime: LocalRuntime, publish: Publish, layout: Path
) -> None:
    first = runtime.deploy(request_for(publish("1.0.0"), layout))
    held = threading.Event()
    held.set()
    request = request_for(publish("1.1.0"), layout).model_copy(
        update={"hold": held.is_set, "ready_timeout": 2.0}
    )
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(runtime.deploy(request)))
    thread.start()
    wait_for(lambda: runtime.state.read("development", "expenses", STARTING))
    time.sleep(3.0)  # longer than ready_timeout: a hold does not use the timeout up
    current = runtime.status("development", "expenses")
    assert current is not None and current.release == "1.0.0" and current.healthy
    held.clear()
    thread.join(30)
    [second] = outcome
    assert getattr(second, "previous_release", None) == "1.0.0"
    assert runtime.state.read("development", "expenses", STARTING) is None
    assert runtime.state.read("development", "expenses", RETIRING) is None
    try:
        httpx.get(f"{first.instance_url}/healthz", timeout=2, trust_env=False)
        raise AssertionError("the previous release still answers")
    except httpx.ConnectError:
        pass


def test_a_killed_deploy_leaves_a_record_that_reap_and_stop_all_act_on(
    runtime: LocalRuntime, publish: Publish, layout: Path, find_processes: FindProcesses
) -> None:
    first = runtime.deploy(request_for(publish("1.0.0"), layout))
    never = publish("1.1.0", "never-ready")
    deployer = subprocess.Popen(
        [sys.executable, "-c", DEPLOY, str(runtime.root), str(layout), never.digest, "1.1.0"]
    )
    wait_for(lambda: runtime.state.read("development", "expenses", STARTING))
    orphan = runtime.state.read("development", "expenses", STARTING)
    assert orphan is not None
    os.kill(deployer.pid, signal.SIGKILL)
    deployer.wait(10)
    address = runtime.addresses.read("development", "expenses")
    assert address is not None
    assert sorted(find_processes(str(runtime.root))) == sorted([first.pid, orphan.pid, address.pid])
    current = runtime.status("development", "expenses")
    assert current is not None and (current.release, current.healthy) == ("1.0.0", True)

    assert runtime.reap("development", "expenses") == [
        f"starting expenses 1.1.0 (process {orphan.pid})"
    ]
    assert sorted(find_processes(str(runtime.root))) == sorted([first.pid, address.pid])
    assert runtime.reap("development", "expenses") == []

    deployer = subprocess.Popen(
        [sys.executable, "-c", DEPLOY, str(runtime.root), str(layout), never.digest, "1.1.0"]
    )
    wait_for(lambda: runtime.state.read("development", "expenses", STARTING))
    os.kill(deployer.pid, signal.SIGKILL)
    deployer.wait(10)
    stopped = {status.pid for status in runtime.stop_all()}
    assert first.pid in stopped and len(stopped) == 2
    assert find_processes(str(runtime.root)) == []
