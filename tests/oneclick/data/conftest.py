"""Real databases for the data tests: every test taking ``db_url`` runs on SQLite and on
PostgreSQL, each time on a fresh, empty database.

``postgres`` (session) is a private PostgreSQL server (``local_postgres.LocalPostgres``: Debian's
PostgreSQL, ``initdb --auth=trust`` as the ``postgres`` user, 127.0.0.1, a free port,
``fsync=off``), stopped when the session ends. Without PostgreSQL installed the PostgreSQL
cases are skipped, saying so (``scripts/test-deps`` installs it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.oneclick.data.local_postgres import LocalPostgres, find_binaries

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    binaries = find_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed here; scripts/test-deps installs it")
    server = LocalPostgres(binaries).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty stage database on ``backend``."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'stage.db'}"
        return
    server: LocalPostgres = request.getfixturevalue("postgres")
    url = server.create_database()
    yield url
    server.drop_database(url)
