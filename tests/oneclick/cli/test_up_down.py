"""`oneclick up` and `oneclick down` as a person runs them: a server of their own, flows
served as deployments the UI can run, and nothing left running afterwards."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest

from flows.deployments import DEPLOYMENTS
from tests.support import EXAMPLES, free_port, oneclick, without_server


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return (
        Path(f"/proc/{pid}").exists()
        and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    )


@pytest.mark.timeout(600)
def test_up_serves_the_flows_and_down_stops_everything(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o755)  # made by hand, open to every user: `up` says so and how to fix it
    port, relay_port = free_port(), free_port()
    env = without_server(home)
    up = oneclick("up", "--port", str(port), "--relay-port", str(relay_port), env=env)
    assert up.returncode == 0, up.stderr
    assert "other users can read 1 path(s) of ONECLICK_HOME" in up.stderr
    assert f"{home} (0755)" in up.stderr and f"chmod -R go-rwx {home}" in up.stderr
    for written in ("prefect/prefect.db", "prefect/server.log", "catalog.db"):
        assert (home / written).stat().st_mode & 0o777 == 0o600, written
    assert f"Prefect server: http://127.0.0.1:{port}" in up.stdout
    api = f"http://127.0.0.1:{port}/api"
    server_pid = json.loads((home / "prefect" / "server.json").read_text())["pid"]
    serve_pid = json.loads((home / "prefect" / "serve.json").read_text())["pid"]
    relay_pid = json.loads((home / "prefect" / "relay.json").read_text())["pid"]
    try:
        again = oneclick("up", "--port", str(port), env=env)  # idempotent: the same server
        assert again.returncode == 0
        assert json.loads((home / "prefect" / "server.json").read_text())["pid"] == server_pid
        none_yet = oneclick("stages", env=env)
        assert none_yet.returncode == 0, none_yet.stderr
        assert "no stage blocks yet: `oneclick demo` creates" in none_yet.stdout

        # `up` returns once every deployment is served, with its triggers
        found = httpx.post(f"{api}/deployments/filter", json={"limit": 50}).json()
        assert {d["name"] for d in found} == {spec.name for spec in DEPLOYMENTS}
        automations = httpx.post(f"{api}/automations/filter", json={}).json()
        assert len(automations) == sum(len(spec.triggers) for spec in DEPLOYMENTS)
        deadline = time.monotonic() + 240  # a busy machine is slow to run
        relay = f"http://127.0.0.1:{relay_port}"
        while time.monotonic() < deadline:  # the relay process imports, then listens
            try:
                if httpx.get(f"{relay}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        unsigned = httpx.post(f"{relay}/hooks/github", content=b"{}")
        assert unsigned.status_code == 401, unsigned.text  # refused before the body is read
        [library] = [d for d in found if d["name"] == "publish-library"]
        created = httpx.Response(0)
        while time.monotonic() < deadline:  # the served deployment may still be registering
            created = httpx.post(
                f"{api}/deployments/{library['id']}/create_flow_run",
                json={"parameters": {"path": str(EXAMPLES / "money-formats")}},
            )
            if created.status_code == 201:
                break
            time.sleep(1)
        assert created.status_code == 201, created.text
        run = created.json()
        state = ""
        while time.monotonic() < deadline + 120 and state not in ("COMPLETED", "FAILED", "CRASHED"):
            time.sleep(1)
            state = httpx.get(f"{api}/flow_runs/{run['id']}").json()["state"]["type"]
        assert state == "COMPLETED"
        assert (home / "libraries" / "money-formats" / "0.3.0" / "manifest.json").exists()
    finally:
        down = oneclick("down", env=env)
    assert down.returncode == 0, down.stderr
    assert "stopped the Prefect server" in down.stdout
    assert not alive(server_pid) and not alive(serve_pid) and not alive(relay_pid)
