"""Shared fixtures: a real Prefect server for the session, and a fresh oneclick home.

The server is a real ``prefect server start`` on a free 127.0.0.1 port with its own
PREFECT_HOME, started by oneclick's own ``start_server``; it starts once, on first use, and
stops at the end of the session. The environment is set before Prefect is imported
anywhere, so in-process flows and CLI subprocesses use the same server.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from oneclick.cli.server import server_environment, start_server, stop_server
from oneclick.errors import OneclickError
from oneclick.home import Home
from tests.oneclick.data.local_postgres import LocalPostgres, find_binaries
from tests.oneclick.images.registry_support import REGISTRY, RunningRegistry, running_registry
from tests.support import EXAMPLES, RUNTIME_PREFIX, SECRET, free_port

if TYPE_CHECKING:
    from oneclick.images.runtime_image import RuntimeImageResult
    from oneclick.images.worker_image import WorkerImageResult

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
def stage_block(stages: list[str]) -> Iterator[Callable[..., str]]:
    """Saves extra stage blocks for one test (the expenses configuration unless given) and
    deletes them afterwards."""
    from blocks import Stage

    made: list[str] = []

    def make(name: str, **fields: Any) -> str:
        fields.setdefault("settings", {"expenses": {"ApprovalLimit": "750"}})
        fields.setdefault("secrets", {"expenses": {"PaymentsApiKey": f"{SECRET}-{name}"}})
        Stage(**fields).save(name, overwrite=True)
        if name not in made:
            made.append(name)
        return name

    yield make
    for name in made:
        Stage.delete(name)


@pytest.fixture
def published_libraries(stages: list[str], oneclick_home: Path) -> Iterator[Path]:
    """A fresh home holding the example libraries; stops every app the test started."""
    from flows.publish_library import publish_library
    from oneclick.runtimes import LocalRuntime

    for library in ("money-formats", "finance-common"):
        publish_library(str(EXAMPLES / library))
    yield oneclick_home
    LocalRuntime(oneclick_home / "runtime").stop_all()


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    """A private PostgreSQL server (Debian's, trust auth, 127.0.0.1, a free port, fsync off)."""
    binaries = find_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed here; scripts/test-deps installs it")
    server = LocalPostgres(binaries).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """An open registry (no auth) on 127.0.0.1 for the whole session."""
    if REGISTRY is None:
        pytest.skip("docker-registry is not installed (scripts/test-deps installs it)")
    with running_registry(tmp_path_factory.mktemp("registry")) as running:
        yield running


@pytest.fixture(scope="session")
def runtime_base(registry: RunningRegistry) -> RuntimeImageResult:
    """The runtime base image, built from this environment's packages (no network) and pushed
    where a registry with prefix ``RUNTIME_PREFIX`` looks for its default base."""
    from oneclick.images.runtime_image import RuntimeTarget, build_runtime_image
    from oneclick.registry import RegistryConfig

    config = RegistryConfig(url=registry.host, insecure=True, prefix=RUNTIME_PREFIX)
    target = RuntimeTarget(registry=config, reference=config.base_reference())
    cache = Home.from_env().root / "cache" / "runtime"
    return build_runtime_image(target, cache=cache, packages="installed")


@pytest.fixture(scope="session")
def worker_image(
    registry: RunningRegistry,
    runtime_base: RuntimeImageResult,
    tmp_path_factory: pytest.TempPathFactory,
) -> WorkerImageResult:
    """The worker image on the runtime base, pushed to its default place (an empty cache)."""
    from oneclick.images.worker_image import WorkerTarget, build_worker_image
    from oneclick.registry import RegistryConfig

    config = RegistryConfig(url=registry.host, insecure=True, prefix=RUNTIME_PREFIX)
    cache = tmp_path_factory.mktemp("worker-cache")
    return build_worker_image(WorkerTarget(registry=config), cache=cache)


@pytest.fixture(scope="session")
def kube_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real Kubernetes control plane with kwok nodes (tests/kube/cluster.py)."""
    from tests.kube.cluster import kube_binaries, running_cluster

    if kube_binaries() is None:
        pytest.skip("the Kubernetes control plane is not built (scripts/kube-build builds it)")
    with running_cluster(tmp_path_factory.mktemp("kube")) as cluster:
        yield cluster
