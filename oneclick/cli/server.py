"""The local Prefect server that ``oneclick up`` starts, the process that serves oneclick's
flows as deployments (so the Prefect UI can run them), and stopping both.

Both run detached (their own session) with ``PREFECT_HOME`` under ONECLICK_HOME, on
127.0.0.1, and leave a state file (pid, and for the server its port and API URL) so that
later commands find them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from oneclick import plainhttp
from oneclick.errors import OneclickError
from oneclick.home import Home

HEALTH_TIMEOUT = 180.0


def _server_state(home: Home) -> Path:
    return home.prefect / "server.json"


def _serve_state(home: Home) -> Path:
    return home.prefect / "serve.json"


def _relay_state(home: Home) -> Path:
    return home.prefect / "relay.json"


def _healthy(api_url: str) -> bool:
    return plainhttp.answers(f"{api_url}/health", timeout=2)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def running_api_url(home: Home) -> str | None:
    """The API URL of the server this home started, if it answers."""
    state = _server_state(home)
    if not state.exists():
        return None
    api_url = str(json.loads(state.read_text())["api_url"])
    return api_url if _healthy(api_url) else None


def server_environment(home: Home, api_url: str) -> dict[str, str]:
    return {
        "PREFECT_HOME": str(home.prefect),
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_API_URL": api_url,
        # the local server runs the same Prefect as this client; its version check (one
        # request with a 5 s timeout, no retry) only adds a way to fail on a busy machine
        "PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED": "false",
    }


# Detached processes outlive this one; their Popen objects are kept so that none is reaped
# (or warned about) while it still runs.
_DETACHED: list[subprocess.Popen[bytes]] = []


def _start_detached(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, *args],
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _DETACHED.append(process)
    return process


def start_server(home: Home, port: int) -> str:
    """Start the server unless it already runs; return its API URL once it is healthy."""
    existing = running_api_url(home)
    if existing:
        return existing
    api_url = f"http://127.0.0.1:{port}/api"
    if _healthy(api_url):
        raise OneclickError(
            f"another Prefect server already answers on port {port}; "
            "stop it, or choose another port with --port"
        )
    log = home.prefect / "server.log"
    process = _start_detached(
        ["-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        server_environment(home, api_url),
        log,
    )
    _server_state(home).write_text(json.dumps({"pid": process.pid, "api_url": api_url}))
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while not _healthy(api_url):
        if process.poll() is not None:
            raise OneclickError(
                f"the Prefect server exited with code {process.returncode}; see {log}"
            )
        if time.monotonic() > deadline:
            process.terminate()
            raise OneclickError(f"the Prefect server was not healthy after {HEALTH_TIMEOUT:.0f}s")
        time.sleep(0.5)
    return api_url


def start_serving(home: Home, api_url: str) -> int:
    """Serve oneclick's flows as deployments, unless that already runs; returns the pid
    once the deployments (and so their triggers) are registered."""
    env = {"PREFECT_RUNNER_POLL_FREQUENCY": "1"}
    pid = _start_once(home, api_url, _serve_state(home), ["-m", "oneclick.cli.serve"], env)
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while not _served(api_url):
        if not _alive(pid):
            log = home.prefect / "serve.log"
            raise OneclickError(f"serving the deployments failed; see {log}")
        if time.monotonic() > deadline:
            raise OneclickError(f"the deployments were not served after {HEALTH_TIMEOUT:.0f}s")
        time.sleep(0.5)
    return pid


def _served(api_url: str) -> bool:
    """Whether the last deployment `oneclick.cli.serve` registers has its trigger."""
    from flows.triggers import STAGE_CHANGE

    try:
        status, body = plainhttp.request(f"{api_url}/automations/filter", payload={}, timeout=5)
    except OSError:
        return False
    return status == 200 and STAGE_CHANGE in {automation["name"] for automation in json.loads(body)}


def start_relay(home: Home, api_url: str, port: int) -> int:
    """Start the git webhook relay on 127.0.0.1:``port``, unless it already runs."""
    args = ["-m", "oneclick.cli", "relay", "--port", str(port)]
    return _start_once(home, api_url, _relay_state(home), args, {})


def _start_once(
    home: Home, api_url: str, state: Path, args: list[str], extra: dict[str, str]
) -> int:
    if state.exists():
        pid = int(json.loads(state.read_text())["pid"])
        if _alive(pid):
            return pid
    env = {**server_environment(home, api_url), "ONECLICK_HOME": str(home.root), **extra}
    log = home.prefect / state.with_suffix(".log").name
    process = _start_detached(args, env, log)
    state.write_text(json.dumps({"pid": process.pid}))
    return process.pid


def _stop(state: Path) -> bool:
    if not state.exists():
        return False
    pid = int(json.loads(state.read_text())["pid"])
    state.unlink()
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    for _ in range(200):
        if not _alive(pid):
            return True
        time.sleep(0.1)
    os.killpg(pid, signal.SIGKILL)
    return True


def stop_server(home: Home) -> bool:
    """Stop what this home started: the relay, the deployments' server process (it tells the
    API that its deployments pause), then the Prefect server. True if the server was running."""
    _stop(_relay_state(home))
    _stop(_serve_state(home))
    return _stop(_server_state(home))
