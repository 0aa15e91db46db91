"""Prefect's result records in the release catalog's database: the storage behind the
workspace block, so that a flow run resumed on another worker (after a person's approval)
finds what it computed before it waited, with no disk shared between workers.

Records are kept for ``KEEP``: longer than any approval waits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from oneclick.releases.catalog import Catalog
from oneclick.releases.tables import ResultRow

KEEP = timedelta(days=30)


class Results:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def read(self, key: str) -> bytes:
        with self.catalog._session() as session:
            row = session.get(ResultRow, key)
            if row is None:
                raise ValueError(f"no result is stored under {key!r}")
            return row.content

    def write(self, key: str, content: bytes) -> None:
        if len(key) > 400:
            raise ValueError(f"a result key is at most 400 characters: {key[:40]}…")
        now = datetime.now(UTC)
        with self.catalog._session() as session:
            session.execute(delete(ResultRow).where(ResultRow.written_at < now - KEEP))
        try:
            with self.catalog._session() as session:
                session.merge(ResultRow(key=key, content=content, written_at=now))
        except IntegrityError:  # written at the same moment by another run: the newer wins
            with self.catalog._session() as session:
                session.merge(ResultRow(key=key, content=content, written_at=now))
