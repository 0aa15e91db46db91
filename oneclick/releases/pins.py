"""Pins: an app held on a release of a stage, so that scheduled promotions leave it alone.

A rollback pins what it rolled back to: automation must not undo a person's deliberate
rollback. The pin stays until a person lifts it (``oneclick unpin``), or until a person
deploys another release there (a manual promotion, a publish). One row per (app, stage).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete

from oneclick.policies import Pin
from oneclick.releases.catalog import Catalog
from oneclick.releases.reading import PINS, pins
from oneclick.releases.tables import PinRow


class Pins:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def pin(self, app: str, stage: str, version: str, reason: str, by: str | None) -> Pin:
        """Hold ``app`` on ``version`` on ``stage`` (replacing an earlier pin)."""
        now = datetime.now(UTC)
        with self.catalog._session() as session:
            row = session.get(PinRow, (app, stage))
            if row is None:
                row = PinRow(app=app, stage=stage)
                session.add(row)
            row.version, row.reason, row.pinned_by, row.pinned_at = version, reason, by, now
        return Pin(version, now, reason)

    def unpin(self, app: str, stage: str) -> Pin | None:
        """Lift the pin; returns what it was (None: there was none)."""
        with self.catalog._session() as session:
            row = session.get(PinRow, (app, stage))
            if row is None:
                return None
            pin = Pin(row.version, row.pinned_at, row.reason)
            session.execute(delete(PinRow).where(PinRow.app == app, PinRow.stage == stage))
        return pin

    def of(self, stage: str | None = None) -> dict[tuple[str, str], Pin]:
        """Every pin, by (app, stage); only one stage's when ``stage`` is given."""
        with self.catalog.engine.connect() as connection:
            found = pins(connection.exec_driver_sql(PINS).all())
        return {key: pin for key, pin in found.items() if stage in (None, key[1])}
