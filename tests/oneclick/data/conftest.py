"""Real databases for the data tests: every test taking ``db_url`` runs on SQLite and on
PostgreSQL, each time on a fresh, empty database.

The PostgreSQL databases come from the session's ``postgres`` server (tests/conftest.py).
Without PostgreSQL installed the PostgreSQL cases are skipped, saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.oneclick.data.local_postgres import LocalPostgres

BACKENDS = ["sqlite", "postgresql"]


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
