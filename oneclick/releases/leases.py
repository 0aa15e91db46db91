"""Leases: at most one rollout of an app on a stage at a time, across processes and machines.

A lease is one row of the catalog per (app, stage): its holder (a random token), the run
holding it (for messages), and when it expires. Taking it is one INSERT, which the
database's primary key lets only one runner win; a lease whose holder stopped renewing
(killed, or cut off from the catalog) is taken over once it has expired, with a
conditional UPDATE that again only one runner wins. A holder renews before expiry and
deletes the row when done. Time is this machine's UTC clock; leases are tens of seconds
long, so the clocks of a team's machines only need to agree to a few seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from oneclick.releases.catalog import Catalog
from oneclick.releases.tables import Lease


class LeaseHolder(BaseModel):
    """Who holds a lease: ``run`` says it for people (a flow run, a process and host)."""

    model_config = ConfigDict(frozen=True)

    holder: str
    run: str
    flow_run_id: str | None = None
    acquired_at: datetime
    expires_at: datetime


class LeaseAttempt(BaseModel):
    """The outcome of one try: ``acquired``, else who holds it. ``took_over`` names an
    expired holder this try replaced."""

    model_config = ConfigDict(frozen=True)

    acquired: bool
    holder: LeaseHolder | None = None
    took_over: LeaseHolder | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _holder(row: Lease) -> LeaseHolder:
    return LeaseHolder(
        holder=row.holder,
        run=row.run,
        flow_run_id=row.flow_run_id,
        acquired_at=row.acquired_at,
        expires_at=row.expires_at,
    )


class Leases:
    """The (app, stage) leases kept in ``catalog``."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def try_acquire(self, app: str, stage: str, me: LeaseHolder, ttl: float) -> LeaseAttempt:
        """Take the lease for ``me`` if it is free or expired; never waits."""
        now = _now()
        expires = now + timedelta(seconds=ttl)
        row = Lease(
            app=app,
            stage=stage,
            holder=me.holder,
            run=me.run,
            flow_run_id=me.flow_run_id,
            acquired_at=now,
            expires_at=expires,
        )
        try:
            with self.catalog._session() as session:
                session.add(row)
            return LeaseAttempt(acquired=True)
        except IntegrityError:
            pass
        current = self.holder(app, stage)
        if current is None:  # released between the insert and the read: try again later
            return LeaseAttempt(acquired=False)
        if current.expires_at > now:
            return LeaseAttempt(acquired=False, holder=current)
        with self.catalog._session() as session:
            taken = (
                session.connection()
                .execute(
                    update(Lease)
                    .where(
                        Lease.app == app,
                        Lease.stage == stage,
                        Lease.holder == current.holder,
                        Lease.expires_at == current.expires_at,
                    )
                    .values(
                        holder=me.holder,
                        run=me.run,
                        flow_run_id=me.flow_run_id,
                        acquired_at=now,
                        expires_at=expires,
                    )
                )
                .rowcount
            )
        if taken:
            return LeaseAttempt(acquired=True, took_over=current)
        return LeaseAttempt(acquired=False, holder=self.holder(app, stage))

    def renew(self, app: str, stage: str, holder: str, ttl: float) -> bool:
        """Extend ``holder``'s lease by ``ttl`` from now; False if it no longer holds it."""
        with self.catalog._session() as session:
            renewed = (
                session.connection()
                .execute(
                    update(Lease)
                    .where(Lease.app == app, Lease.stage == stage, Lease.holder == holder)
                    .values(expires_at=_now() + timedelta(seconds=ttl))
                )
                .rowcount
            )
        return bool(renewed)

    def release(self, app: str, stage: str, holder: str) -> bool:
        """Give the lease up; False if ``holder`` did not hold it."""
        with self.catalog._session() as session:
            deleted = (
                session.connection()
                .execute(
                    delete(Lease).where(
                        Lease.app == app, Lease.stage == stage, Lease.holder == holder
                    )
                )
                .rowcount
            )
        return bool(deleted)

    def release_run(self, flow_run_id: str) -> int:
        """Give up every lease a flow run holds (it crashed or was cancelled)."""
        with self.catalog._session() as session:
            return int(
                session.connection()
                .execute(delete(Lease).where(Lease.flow_run_id == flow_run_id))
                .rowcount
            )

    def holder(self, app: str, stage: str) -> LeaseHolder | None:
        with self.catalog._session() as session:
            row = session.scalars(
                select(Lease).where(Lease.app == app, Lease.stage == stage)
            ).one_or_none()
            return _holder(row) if row is not None else None
