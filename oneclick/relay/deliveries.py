"""Replays refused: every delivery the relay acted on is remembered for ``KEEP`` seconds, in
the release catalog's database, so every relay of a team (and a restarted one) knows it.

``claim`` is one INSERT that the primary key lets only one caller win, so two copies of a
delivery arriving at once cannot both pass; ``release`` forgets a claim whose event could
not be posted, so the provider's redelivery is taken then.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from oneclick.releases import Catalog
from oneclick.releases.tables import DeliveryRow

KEEP = timedelta(days=30)


class Deliveries:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def claim(self, provider: str, delivery: str) -> bool:
        """True the first time ``delivery`` is seen (within ``KEEP``); False for a replay."""
        now = datetime.now(UTC)
        with self.catalog._session() as session:
            session.execute(delete(DeliveryRow).where(DeliveryRow.seen_at < now - KEEP))
        try:
            with self.catalog._session() as session:
                session.add(DeliveryRow(provider=provider, key=delivery[:200], seen_at=now))
        except IntegrityError:
            return False
        return True

    def release(self, provider: str, delivery: str) -> None:
        with self.catalog._session() as session:
            session.execute(
                delete(DeliveryRow).where(
                    DeliveryRow.provider == provider, DeliveryRow.key == delivery[:200]
                )
            )
