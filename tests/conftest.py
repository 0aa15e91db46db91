"""Shared fixtures: a real Prefect server for the session, and a fresh oneclick home.

The server is a real ``prefect server start`` on a free 127.0.0.1 port with its own
PREFECT_HOME; it starts once, on first use, and stops at the end of the session. The
environment is set before Prefect is imported anywhere, so in-process flows and CLI
subprocesses use the same server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import EXAMPLES, SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_SESSION_DIR = Path(tempfile.mkdtemp(prefix="oneclick-tests-"))
_PORT = free_port()
API_URL = f"http://127.0.0.1:{_PORT}/api"
os.environ.update(
    {
        "PREFECT_HOME": str(_SESSION_DIR / "prefect"),
        "PREFECT_API_URL": API_URL,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_API_URL": API_URL,
        "PREFECT_LOGGING_TO_API_BATCH_INTERVAL": "0.3",
        "ONECLICK_HOME": str(_SESSION_DIR / "home"),
    }
)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    """A real Prefect server; yields its API URL."""
    log = (_SESSION_DIR / "prefect-server.log").open("wb")
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
            str(_PORT),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"{API_URL}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            text = (_SESSION_DIR / "prefect-server.log").read_text(errors="replace")
            pytest.fail(f"the Prefect server did not start:\n{text[-3000:]}")
        time.sleep(0.5)
    from blocks import Stage

    Stage.register_type_and_schema()
    yield API_URL
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=5)
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def oneclick_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ONECLICK_HOME for one test."""
    home = tmp_path / "home"
    monkeypatch.setenv("ONECLICK_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def stages(prefect_server: str) -> list[str]:
    from blocks import Stage

    limits = {"development": "5000", "qa": "1000", "production": "500"}
    for order, (name, limit) in enumerate(limits.items(), start=1):
        Stage(
            order=order,
            settings={"expenses": {"ApprovalLimit": limit, "CurrencySymbol": "€"}},
            secrets={"expenses": {"PaymentsApiKey": f"{SECRET}-{name}"}},
        ).save(name, overwrite=True)
    return list(limits)


@pytest.fixture
def published_libraries(stages: list[str], oneclick_home: Path) -> Iterator[Path]:
    """A fresh home holding the example libraries; stops every app the test started."""
    from flows.publish_library import publish_library
    from oneclick.runtimes import LocalRuntime

    for library in ("money-formats", "finance-common"):
        publish_library(str(EXAMPLES / library))
    yield oneclick_home
    LocalRuntime(oneclick_home / "runtime").stop_all()
