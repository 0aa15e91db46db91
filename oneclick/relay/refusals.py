"""Refused deliveries as log lines, without letting a flood of bad requests flood the log.

The first refusal of each kind (provider and reason) is logged at once; more of the same
kind within ``every`` seconds are counted, and the next line of that kind says how many were
refused meanwhile. A count not yet logged is in no line; ``flush`` writes them (on shutdown).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

MAX_KINDS = 1000  # reasons may quote what a caller sent: the table of kinds stays bounded


class Refusals:
    def __init__(
        self,
        logger: logging.Logger,
        every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.every = every
        self.clock = clock
        self._kinds: dict[tuple[str, str], tuple[float, int]] = {}  # → (logged at, since)
        self._lock = threading.Lock()

    def note(self, provider: str, reason: str) -> None:
        """One refused delivery."""
        key, now = (provider, reason), self.clock()
        with self._lock:
            logged_at, since = self._kinds.get(key, (None, 0))
            if logged_at is not None and now - logged_at < self.every:
                self._kinds[key] = (logged_at, since + 1)
                return
            if key not in self._kinds and len(self._kinds) >= MAX_KINDS:
                self._flush_locked()
            self._kinds[key] = (now, 0)
        self._log(provider, reason, since)

    def flush(self) -> None:
        """Log the refusals counted and not yet logged."""
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        for (provider, reason), (_, since) in self._kinds.items():
            if since:
                self._log(provider, reason, since, first=False)
        self._kinds.clear()

    def _log(self, provider: str, reason: str, since: int, first: bool = True) -> None:
        if not first:
            self.logger.warning("refused %d more %s deliveries: %s", since, provider, reason)
        elif since:
            self.logger.warning(
                "refused a %s delivery: %s (and %d more like it since the last such line)",
                provider,
                reason,
                since,
            )
        else:
            self.logger.warning("refused a %s delivery: %s", provider, reason)
