"""Helpers for the rollout tests: model variants, the CLI as a separate process, waiting."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import httpx

from oneclick.home import Home
from oneclick.releases import Catalog, DeploymentView, Phase
from tests.support import EXAMPLES

LEASE_TTL = "4"  # seconds: a killed run's lease is taken over quickly in these tests


def variant(
    root: Path,
    name: str,
    *,
    version: str = "1.0.0",
    phone: bool = False,
    job_title: bool = False,
    app: str = "expenses",
) -> Path:
    """A copy of the example app: another version, added attributes, another app name."""
    target = root / name
    shutil.copytree(EXAMPLES / "expenses", target)
    model = (target / "app.yaml").read_text()
    model = model.replace("version: 1.0.0", f"version: {version}")
    model = model.replace("app: expenses", f"app: {app}")
    email = "      - {name: Email, type: email}"
    added = [email]
    if phone:
        added.append("      - {name: Phone, type: phone}")
    if job_title:
        added.append("      - {name: JobTitle, type: text, length: 80}")
    model = model.replace(email, "\n".join(added))
    (target / "app.yaml").write_text(model)
    return target


def start_publish(path: Path, stage: str) -> subprocess.Popen[str]:
    """``oneclick publish app PATH --stage STAGE`` as a process of its own."""
    env = {**os.environ, "ONECLICK_LEASE_TTL": LEASE_TTL}
    return subprocess.Popen(
        [sys.executable, "-m", "oneclick.cli", "publish", "app", str(path), "--stage", stage],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 240) -> str:
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output[-4000:]
    return output


def wait_for(condition: Callable[[], object], timeout: float = 120.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        time.sleep(0.02)


def deployments(app: str = "expenses", stage: str | None = None) -> list[DeploymentView]:
    found = Catalog(Home.from_env().catalog_url).deployments(app)
    return [d for d in found if stage is None or d.stage == stage]


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=5, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def employees(url: str) -> list[str]:
    response = httpx.get(f"{url}/api/employee", timeout=5, trust_env=False)
    response.raise_for_status()
    return [item["Name"] for item in response.json()["items"]]


def flow_run_state(flow_run_id: str) -> str:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(flow_run_id)).state
    return state.type.value if state is not None else "NONE"


def pid_alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "zombie" not in status.read_text().lower()
    except OSError:
        return False


class LoadLoop:
    """Requests to a stage's app, one after another, from a thread, until stopped: each one
    first looks up the stage's current address (``locate``), as a proxy in front of the
    stage would, then reads ``/api/employee`` and ``/readyz`` in turn (a readiness probe
    that fails takes an instance out of service). Counts what succeeded and what failed."""

    def __init__(
        self,
        locate: Callable[[], str | None],
        paths: tuple[str, ...] = ("/api/employee", "/readyz"),
    ) -> None:
        self.locate, self.paths = locate, paths
        self.ok = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load loop", daemon=True)

    def _run(self) -> None:
        with httpx.Client(trust_env=False, timeout=10) as client:
            turn = 0
            while not self._stop.is_set():
                path = self.paths[turn % len(self.paths)]
                turn += 1
                try:
                    url = f"{self.locate()}{path}"
                    response = client.get(url)
                except Exception as exc:  # every failure counts, none ends the loop
                    self.failures.append(f"{path}: {type(exc).__name__}: {exc}")
                    continue
                if response.status_code == 200:
                    self.ok += 1
                else:
                    self.failures.append(f"{url}: {response.status_code} {response.text[:200]}")

    def __enter__(self) -> LoadLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)


def lock_stage_database(home: Path, stage: str) -> sqlite3.Connection:
    """Hold the stage database's write lock, as another writer would: scripts must wait."""
    connection = sqlite3.connect(home / "stages" / stage / "expenses.db", isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    return connection


def publish_and_kill(
    path: Path, stage: str, home: Path, moment: str, new_instance: Callable[[], object]
) -> None:
    """Publish ``path`` to ``stage`` from a CLI process and SIGKILL it during ``moment``:
    the build, the scripts (held back by a lock on the stage database), or the deploy wait
    (once the scripts committed and ``new_instance()`` is true)."""
    lock = lock_stage_database(home, stage) if moment == "scripts" else None
    killed = start_publish(path, stage)
    try:
        if moment == "build":
            wait_for(lambda: any((home / "builds").iterdir()), what="a build directory")
        elif moment == "scripts":
            wait_for(lambda: deployments(stage=stage)[0].phase is Phase.RUNNING, what="running")
        else:
            wait_for(lambda: deployments(stage=stage)[0].schema_changes, what="the scripts")
            wait_for(new_instance, what="a new instance")
    finally:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(30)
        if lock is not None:
            lock.rollback()
            lock.close()
