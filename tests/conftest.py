"""Shared fixtures: a real Prefect server for the session, and a fresh oneclick home.

The server is a real ``prefect server start`` on a free 127.0.0.1 port with its own
PREFECT_HOME, started by oneclick's own ``start_server``; it starts once, on first use, and
stops at the end of the session. The environment is set before Prefect is imported
anywhere, so in-process flows and CLI subprocesses use the same server.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from oneclick.cli.server import server_environment, start_server, stop_server
from oneclick.errors import OneclickError
from oneclick.home import Home
from tests.support import EXAMPLES, SECRET, free_port

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="oneclick-tests-"))
_SERVER_HOME = Home(_SESSION_DIR / "server")
_SERVER_HOME.prefect.mkdir(parents=True)
_PORT = free_port()
API_URL = f"http://127.0.0.1:{_PORT}/api"
os.environ.update(
    {
        **server_environment(_SERVER_HOME, API_URL),
        "PREFECT_LOGGING_TO_API_BATCH_INTERVAL": "0.3",
        "ONECLICK_HOME": str(_SESSION_DIR / "home"),
    }
)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    """A real Prefect server, started the way `oneclick up` starts it; yields its API URL."""
    try:
        start_server(_SERVER_HOME, _PORT)
    except OneclickError as exc:
        log = _SERVER_HOME.prefect / "server.log"
        pytest.fail(f"{exc}\n{log.read_text(errors='replace')[-3000:]}")
    from blocks import Registry, Stage

    Stage.register_type_and_schema()
    Registry.register_type_and_schema()
    yield API_URL
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=5)
    stop_server(_SERVER_HOME)


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
