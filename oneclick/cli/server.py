"""The local Prefect server that ``oneclick up`` starts and ``oneclick down`` stops.

It runs detached (its own session) with ``PREFECT_HOME`` under ONECLICK_HOME, on 127.0.0.1,
and leaves ``server.json`` (pid, port, API URL) so that later commands find it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from oneclick.errors import OneclickError
from oneclick.home import Home

HEALTH_TIMEOUT = 180.0


def _state_file(home: Home) -> Path:
    return home.prefect / "server.json"


def _healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def running_api_url(home: Home) -> str | None:
    """The API URL of the server this home started, if it answers."""
    state = _state_file(home)
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
    }


def start_server(home: Home, port: int, progress: bool = True) -> str:
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
    home.prefect.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **server_environment(home, api_url)}
    env.pop("PREFECT_API_KEY", None)
    log = (home.prefect / "server.log").open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    state = {"pid": process.pid, "port": port, "api_url": api_url}
    _state_file(home).write_text(json.dumps(state))
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while not _healthy(api_url):
        if process.poll() is not None:
            raise OneclickError(
                f"the Prefect server exited with code {process.returncode}; "
                f"see {home.prefect / 'server.log'}"
            )
        if time.monotonic() > deadline:
            process.terminate()
            raise OneclickError(f"the Prefect server was not healthy after {HEALTH_TIMEOUT:.0f}s")
        time.sleep(0.5)
    return api_url


def stop_server(home: Home) -> bool:
    """Stop the server this home started. True if one was running."""
    state = _state_file(home)
    if not state.exists():
        return False
    pid = int(json.loads(state.read_text())["pid"])
    state.unlink()
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    os.killpg(pid, signal.SIGKILL)
    return True
