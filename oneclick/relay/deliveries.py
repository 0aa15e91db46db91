"""Replays refused: every delivery id the relay acted on is remembered for ``KEEP`` seconds.

``claim`` is one atomic insert, so two copies of a delivery arriving at once cannot both
pass; ``release`` forgets a claim whose event could not be posted, so the provider's
redelivery is taken then.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

KEEP = 30 * 24 * 3600


class Deliveries:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with closing(self._connect()) as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS deliveries ("
                " provider TEXT NOT NULL, id TEXT NOT NULL, seen_at REAL NOT NULL,"
                " PRIMARY KEY (provider, id))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10, isolation_level=None)

    def claim(self, provider: str, delivery: str) -> bool:
        """True the first time ``delivery`` is seen (within ``KEEP``); False for a replay."""
        now = time.time()
        with closing(self._connect()) as db:
            db.execute("DELETE FROM deliveries WHERE seen_at < ?", (now - KEEP,))
            cursor = db.execute(
                "INSERT OR IGNORE INTO deliveries (provider, id, seen_at) VALUES (?, ?, ?)",
                (provider, delivery, now),
            )
            return cursor.rowcount == 1

    def release(self, provider: str, delivery: str) -> None:
        with closing(self._connect()) as db:
            db.execute("DELETE FROM deliveries WHERE provider = ? AND id = ?", (provider, delivery))
