"""The relay's record of deliveries lives in the catalog's database: every relay of a team
(and a restarted one) refuses what another already took, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from oneclick.relay.deliveries import Deliveries
from oneclick.releases import Catalog
from tests.oneclick.data.local_postgres import LocalPostgres


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    postgres: LocalPostgres = request.getfixturevalue("postgres")
    return postgres.create_database("catalog")


def test_a_delivery_is_taken_once_by_any_relay(catalog_url: str) -> None:
    one, other = Deliveries(Catalog(catalog_url)), Deliveries(Catalog(catalog_url))
    assert one.claim("github", "d-1")
    assert not other.claim("github", "d-1")  # another relay, or this one restarted
    assert other.claim("gitlab", "d-1")  # per provider
    one.release("github", "d-1")  # its event could not be posted: the redelivery is taken
    assert other.claim("github", "d-1")


def test_copies_arriving_at_once_pass_once(catalog_url: str) -> None:
    relays = [Deliveries(Catalog(catalog_url)) for _ in range(4)]
    with ThreadPoolExecutor(8) as pool:
        taken = list(pool.map(lambda i: relays[i % 4].claim("gitea", "same"), range(16)))
    assert taken.count(True) == 1
