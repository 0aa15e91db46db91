"""Holding the (app, stage) lease for the length of a rollout.

``hold_lease`` waits in line for the lease (``Leases`` in the catalog), logging the run it
waits for, and gives up after ``wait`` seconds with a ``RolloutBusyError`` that names that
run. Once held, a heartbeat thread renews it every ``ttl / 5`` seconds; if renewing fails
for longer than the lease lasts, ``HeldLease.lost`` turns true and the rollout must not
switch anything any more. A SIGKILLed holder stops renewing, so its lease expires after
``ttl`` seconds and the next rollout takes it over.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from oneclick.errors import OneclickError
from oneclick.releases import Catalog, DeploymentView, LeaseHolder, Leases

log = logging.getLogger(__name__)

DEFAULT_WAIT = float(os.environ.get("ONECLICK_ROLLOUT_WAIT", "900"))
DEFAULT_TTL = float(os.environ.get("ONECLICK_LEASE_TTL", "30"))
POLL = 0.5
WAIT_LOG_EVERY = 30.0


class RolloutBusyError(OneclickError):
    """Another rollout of the same app on the same stage held the stage for too long."""


class HeldLease:
    """A lease this process holds, kept alive by a heartbeat thread."""

    def __init__(self, leases: Leases, app: str, stage: str, me: LeaseHolder, ttl: float):
        self.leases, self.app, self.stage, self.me, self.ttl = leases, app, stage, me, ttl
        self._renewed = time.monotonic()
        self._lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease {app}/{stage}", daemon=True)

    @property
    def lost(self) -> bool:
        """True once the lease may be someone else's: stop before switching anything."""
        return self._lost or time.monotonic() - self._renewed > self.ttl

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 5):
            try:
                held = self.leases.renew(self.app, self.stage, self.me.holder, self.ttl)
            except Exception as exc:  # the catalog may come back before the lease expires
                log.warning("cannot renew the lease on %s/%s: %s", self.app, self.stage, exc)
                continue
            if not held:
                log.error("the lease on %s/%s was taken over", self.app, self.stage)
                self._lost = True
                return
            self._renewed = time.monotonic()

    def start(self) -> None:
        self._thread.start()

    def release(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            self.leases.release(self.app, self.stage, self.me.holder)
        except Exception as exc:  # it expires on its own
            log.warning("cannot release the lease on %s/%s: %s", self.app, self.stage, exc)


def this_process(flow_run_id: str | None = None, name: str | None = None) -> LeaseHolder:
    """A holder for this process: a fresh token and a description people can find."""
    where = f"process {os.getpid()} on {socket.gethostname()}"
    run = f"flow run {name} ({flow_run_id}), {where}" if flow_run_id else where
    now = datetime.now(UTC)
    return LeaseHolder(
        holder=uuid.uuid4().hex,
        run=run,
        flow_run_id=flow_run_id,
        acquired_at=now,
        expires_at=now,
    )


@contextmanager
def hold_lease(
    catalog: Catalog,
    app: str,
    stage: str,
    me: LeaseHolder,
    *,
    wait: float = DEFAULT_WAIT,
    ttl: float = DEFAULT_TTL,
) -> Iterator[HeldLease]:
    """Hold the lease on (``app``, ``stage``) for the ``with`` block; waits for it in line."""
    leases = Leases(catalog)
    deadline = time.monotonic() + wait
    logged_at = float("-inf")
    while True:
        attempt = leases.try_acquire(app, stage, me, ttl)
        if attempt.acquired:
            if attempt.took_over is not None:
                log.warning(
                    "took over the lease on %s/%s from %s, which stopped renewing it "
                    "(killed or cut off)",
                    app,
                    stage,
                    attempt.took_over.run,
                )
            break
        holder = attempt.holder.run if attempt.holder else "another run"
        if time.monotonic() >= deadline:
            raise RolloutBusyError(
                f"{app} on {stage} is being rolled out by {holder}; waited {wait:g} s for it "
                "to finish. Wait for that run (or cancel it in the Prefect UI), then run again"
            )
        if time.monotonic() - logged_at >= WAIT_LOG_EVERY:
            log.info("waiting for %s, which is rolling out %s on %s", holder, app, stage)
            logged_at = time.monotonic()
        time.sleep(POLL)
    held = HeldLease(leases, app, stage, me, ttl)
    held.start()
    try:
        yield held
    finally:
        held.release()


def abandon_run(catalog: Catalog, flow_run_id: str, reason: str) -> list[DeploymentView]:
    """A run crashed or was cancelled: its unfinished attempts are aborted, its leases given
    up (the instance it may have started is reaped by the next rollout of that stage)."""
    aborted = catalog.abort_run(flow_run_id, reason)
    released = Leases(catalog).release_run(flow_run_id)
    if aborted or released:
        log.warning(
            "flow run %s ended early (%s): %d attempt(s) aborted, %d lease(s) given up",
            flow_run_id,
            reason,
            len(aborted),
            released,
        )
    return aborted
