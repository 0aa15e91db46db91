"""The catalog read through its driver alone (what `oneclick status` reads), on real SQLite
and PostgreSQL catalogs: it answers what ``Catalog`` answers, and leaves unready catalogs to
``Catalog``."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from oneclick.releases import Catalog, Phase, Pins
from oneclick.releases.reading import open_reader
from tests.oneclick.data.local_postgres import LocalPostgres


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    server: LocalPostgres = request.getfixturevalue("postgres")
    return server.create_database()


def deploy(catalog: Catalog, app: str, version: str, stage: str, phase: Phase) -> None:
    digest = f"sha256:{abs(hash((app, version))):064d}"[:71]
    catalog.record_release(
        manifest={"app": app, "digest": digest, "schema_fingerprint": "sha256:s"},
        model={},
        version=version,
        image_digest=digest,
        image_reference="r",
    )
    deployment = catalog.start_deployment(app, version, stage, None)
    catalog.finish_deployment(deployment, phase, url=f"http://127.0.0.1:9/{app}/{version}")


def test_the_reader_sees_what_runs_and_the_pins_as_the_catalog_does(url: str) -> None:
    catalog = Catalog(url)
    deploy(catalog, "expenses", "1.0.0", "development", Phase.SUCCEEDED)
    deploy(catalog, "expenses", "1.1.0", "development", Phase.FAILED)  # 1.0.0 keeps serving
    deploy(catalog, "expenses", "1.0.0", "qa", Phase.SUCCEEDED)
    deploy(catalog, "travel", "2.0.0", "development", Phase.SUCCEEDED)
    deploy(catalog, "travel", "2.0.0", "qa", Phase.SUCCEEDED)
    assert catalog.record_undeploy("travel", "qa")  # nothing runs there now
    deploy(catalog, "budget", "0.1.0", "qa", Phase.ABORTED)  # never ran
    Pins(catalog).pin("expenses", "qa", "1.0.0", "by rollback", "ana")

    with open_reader(url) as reader:
        assert reader is not None
        running, pins = reader.running(), reader.pins()
        only = reader.running("travel")

    assert [(v.app, v.stage, v.version) for v in running] == [
        ("expenses", "development", "1.0.0"),
        ("expenses", "qa", "1.0.0"),
        ("travel", "development", "2.0.0"),
    ]
    assert running == catalog.status()
    assert only == catalog.status("travel")
    assert running[0].started_at.tzinfo is not None
    assert running[0].url == "http://127.0.0.1:9/expenses/1.0.0"
    assert pins == Pins(catalog).of()
    assert str(pins[("expenses", "qa")]).startswith("pinned on 1.0.0 by rollback")


def test_a_catalog_not_made_yet_is_left_to_the_catalog_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    with open_reader(f"sqlite:///{path}") as reader:
        assert reader is None
    assert not path.exists()


def test_a_catalog_behind_the_newest_schema_is_left_to_the_catalog(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    Catalog(url)
    with sqlite3.connect(tmp_path / "catalog.db") as connection:
        connection.execute("UPDATE oneclick_catalog_version SET version_num = '0005'")
    with open_reader(url) as reader:
        assert reader is None


def test_reading_the_catalog_imports_no_sqlalchemy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    deploy(Catalog(url), "expenses", "1.0.0", "development", Phase.SUCCEEDED)
    code = (
        "import sys\n"
        "from oneclick.releases.reading import open_reader\n"
        f"with open_reader({url!r}) as reader:\n"
        "    assert reader is not None and len(reader.running()) == 1\n"
        "print(sorted(m for m in sys.modules if m.startswith('sqlalchemy')))\n"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "[]"
