"""What the catalog says runs where, and the pins: read through the database driver alone.

``oneclick status`` must stay quick, and importing SQLAlchemy costs more CPU than the whole
command may use. So these reads are plain SQL over a DB-API connection: the standard
library's ``sqlite3`` (opened read-only), or ``psycopg`` for a server catalog. ``Catalog``
runs the same statements through its engine, so there is one text of what "runs on a stage"
means. A catalog that does not exist yet or is not at the newest schema is not read here:
``open_reader`` answers None and the caller opens ``Catalog``, which brings it up to date.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from oneclick.errors import CatalogError
from oneclick.policies.evaluate import Pin
from oneclick.releases.views import DeploymentView, Phase

MIGRATIONS = Path(__file__).parent / "migrations"

# The last settled deployment of each (app, stage), when it succeeded: what runs there now.
# (An undeployment settles it too: then nothing runs.)
RUNNING = f"""
SELECT d.id, d.app, d.stage, r.version, r.image_digest, r.schema_fingerprint, d.phase,
       d.flow_run_id, d.url, d.schema_changes, d.schema_script, d.message, d.started_at,
       d.finished_at, d.config_digest, d.started_by, d.override
FROM deployments d JOIN releases r ON r.id = d.release_id
WHERE d.phase = '{Phase.SUCCEEDED.value}' AND d.id IN (
    SELECT MAX(id) FROM deployments
    WHERE phase IN ('{Phase.SUCCEEDED.value}', '{Phase.UNDEPLOYED.value}')
    GROUP BY app, stage)
"""

PINS = "SELECT app, stage, version, pinned_at, reason FROM pins"

VERSION = "SELECT version_num FROM oneclick_catalog_version"


def head() -> str:
    """The newest migration's revision: scripts are named ``NNNN_what.py``, revision NNNN."""
    return max(p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def _moment(value: datetime | str) -> datetime:
    """A stored time as an aware UTC datetime (SQLite hands back text, servers naive times)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _utc(value: datetime | str | None) -> datetime | None:
    return None if value is None else _moment(value)


def running(rows: Iterable[Sequence[Any]]) -> list[DeploymentView]:
    """``RUNNING``'s rows as views, by app and stage."""
    views = []
    for row in rows:
        (id_, app, stage, version, image, schema, phase, run, url, changes, script) = row[:11]
        (message, started, finished, config, started_by, override) = row[11:]
        views.append(
            DeploymentView(
                id=id_,
                app=app,
                stage=stage,
                version=version,
                image_digest=image,
                schema_fingerprint=schema,
                phase=Phase(phase),
                flow_run_id=run,
                url=url,
                schema_changes=json.loads(changes),
                schema_script=script,
                message=message,
                started_at=_utc(started),
                finished_at=_utc(finished),
                config_digest=config,
                started_by=started_by,
                override=override,
            )
        )
    return sorted(views, key=lambda view: (view.app, view.stage))


def pins(rows: Iterable[Sequence[Any]]) -> dict[tuple[str, str], Pin]:
    """``PINS``'s rows by (app, stage)."""
    return {
        (app, stage): Pin(version, _moment(pinned_at), reason)
        for app, stage, version, pinned_at, reason in rows
    }


def shown(url: str) -> str:
    """The catalog's URL as it may be shown: without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


class CatalogReader:
    """A read-only view of the catalog over a DB-API connection."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def _rows(self, statement: str) -> list[Sequence[Any]]:
        with closing(self.connection.cursor()) as cursor:
            cursor.execute(statement)
            return list(cursor.fetchall())

    def running(self, app: str | None = None) -> list[DeploymentView]:
        """What each app (or only ``app``) runs on each stage now."""
        return [view for view in running(self._rows(RUNNING)) if app in (None, view.app)]

    def pins(self) -> dict[tuple[str, str], Pin]:
        return pins(self._rows(PINS))


def _connect(url: str) -> Any | None:
    """A DB-API connection to the catalog at ``url``, or None when it has no file yet or
    is not one this module can read (the caller then opens ``Catalog``)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            return None
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    scheme, _, rest = url.partition("://")
    if scheme not in ("postgresql", "postgresql+psycopg"):
        return None
    import psycopg

    return psycopg.connect(f"postgresql://{rest}", autocommit=True, connect_timeout=10)


@contextmanager
def open_reader(url: str) -> Iterator[CatalogReader | None]:
    """The catalog at ``url`` to read, when it is at the newest schema; else None."""
    try:
        connection = _connect(url)
    except Exception as exc:  # each driver has its own error classes
        raise CatalogError(f"cannot read the release catalog at {shown(url)}: {exc}") from exc
    if connection is None:
        yield None
        return
    with closing(connection):
        reader = CatalogReader(connection)
        try:
            current = reader._rows(VERSION)
        except Exception:  # no version table: a catalog older than its versioning
            current = []
        yield reader if current and current[0][0] == head() else None
