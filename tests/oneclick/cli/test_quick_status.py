"""`oneclick status` stays quick: on embedded stages whose databases are as oneclick left them,
it reads the catalog and the drift through sqlite3 alone (no SQLAlchemy, httpx, Alembic or
Prefect import); a database changed outside oneclick is still reflected and reported."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from oneclick.compiler.schema import app_metadata, schema_fingerprint
from oneclick.data import apply_schema
from oneclick.home import Home
from oneclick.model.types import AppModel
from oneclick.releases import Catalog, Phase

HEAVY = ("sqlalchemy", "httpx", "alembic", "prefect", "docker", "kubernetes")

STATUS = f"""
import sys
from click.testing import CliRunner
from oneclick.cli.main import cli
result = CliRunner().invoke(cli, ["status"])
assert result.exit_code == 0, result.output
print(result.output)
print("imported:", sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r})))
"""


def publish(home: Home, app: str, stage: str) -> None:
    """What a publish leaves: a release, its deployment, the stage database at its schema."""
    catalog = Catalog(home.catalog_url)
    digest = f"sha256:{len(app):064d}"
    manifest = {"app": app, "digest": digest, "schema_fingerprint": "sha256:" + "f" * 64}
    catalog.record_release(
        manifest=manifest, model={}, version="1.0.0", image_digest=digest, image_reference="r"
    )
    deployment = catalog.start_deployment(app, "1.0.0", stage, None)
    catalog.finish_deployment(deployment, Phase.SUCCEEDED, url="http://127.0.0.1:9")
    entity = {"name": "Expense", "attributes": [{"name": "Title", "type": "text"}]}
    model = AppModel.model_validate({"app": app, "entities": [entity]})
    url = home.stage_database_url(stage).replace("{app}", app)
    Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    apply_schema(url, app_metadata(model), schema_fingerprint(model), app=app, release="1.0.0")


def status(home: Home) -> str:
    env = {**os.environ, "ONECLICK_HOME": str(home.root)}
    env.pop("PREFECT_API_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", STATUS], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def drift_cells(shown: str) -> dict[tuple[str, str], str]:
    """The DRIFT cell of each (app, stage) row of the table."""
    lines = shown.splitlines()
    header = next(line for line in lines if line.startswith("APP "))
    start, end = header.index("DRIFT"), header.index("URL")
    return {
        (line.split()[0], line.split()[1]): line[start:end].strip()
        for line in lines
        if line.startswith(("expenses ", "travel "))
    }


def test_status_reads_untouched_stages_without_heavy_imports_and_reflects_drift(
    tmp_path: Path,
) -> None:
    home = Home(tmp_path / "home").ensure()
    for app in ("expenses", "travel"):
        for stage in ("development", "qa"):
            publish(home, app, stage)

    shown = status(home)
    assert drift_cells(shown) == {
        ("expenses", "development"): "none",
        ("expenses", "qa"): "none",
        ("travel", "development"): "none",
        ("travel", "qa"): "none",
    }
    assert "imported: []" in shown

    with sqlite3.connect(home.root / "stages" / "qa" / "travel.db") as connection:
        connection.execute("ALTER TABLE expense ADD COLUMN note TEXT")
    shown = status(home)
    assert drift_cells(shown)[("travel", "qa")] == "1 change(s)"
    assert drift_cells(shown)[("travel", "development")] == "none"
    assert "travel on qa: drift: column added" in shown
    assert "imported: ['sqlalchemy']" in shown  # only the changed database was reflected
