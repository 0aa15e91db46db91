"""Deciding, at a given moment, whether a stage is frozen and which apps a scheduled
promotion takes. Pure functions of the policy, the catalog's facts and ``now``.

Skip reasons are checked in this order, the first that applies is given:
frozen (stop-the-line, a one-off or a recurring window) ─► pinned ─► refused on the source
─► not on the source ─► already runs that release ─► not soaked yet ─► configuration missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim

from oneclick.policies.model import CronSchedule, PromotionPolicy, RecurringFreeze


@dataclass(frozen=True)
class Freeze:
    """Why a stage takes no promotion now, and until when (None: until switched off)."""

    reason: str
    until: datetime | None

    def __str__(self) -> str:
        until = f" until {self.until.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if self.until else ""
        return f"frozen: {self.reason}{until}"


@dataclass(frozen=True)
class Pin:
    """An app held on a release of a stage (by a rollback), until a person unpins it."""

    version: str
    pinned_at: datetime
    reason: str

    def __str__(self) -> str:
        return f"pinned on {self.version} {self.reason} at {self.pinned_at:%Y-%m-%d %H:%M} UTC"


@dataclass(frozen=True)
class Candidate:
    """What the catalog says of one app: what the source runs, since when, what the target
    runs, and what would stop a promotion of it."""

    app: str
    source_version: str | None
    source_since: datetime | None = None
    source_refused: str | None = None  # its last attempt on the source failed: why
    target_version: str | None = None
    pin: Pin | None = None
    config_missing: str | None = None  # what the target lacks to run the source's release


@dataclass(frozen=True)
class Decision:
    app: str
    from_version: str | None
    to_version: str | None
    promote: bool
    reason: str


def _last_fire(cron: str, zone: str, now: datetime) -> datetime:
    """The last time ``cron`` fired at or before ``now``."""
    local = now.astimezone(ZoneInfo(zone)).replace(microsecond=0) + timedelta(seconds=1)
    fired: datetime = next(CronSim(cron, local, reverse=True))
    return fired


def _recurring(window: RecurringFreeze, now: datetime) -> Freeze | None:
    start = _last_fire(window.cron, window.timezone, now).astimezone(UTC)
    end = start + timedelta(minutes=window.duration_minutes)
    return Freeze(window.reason, end) if start <= now < end else None


def active_freeze(policy: PromotionPolicy, now: datetime) -> Freeze | None:
    """The freeze in force at ``now``, if any: stop-the-line first, then the one that ends
    last (a person reads how long the stage stays closed)."""
    if policy.stop_the_line:
        return Freeze(f"the line is stopped: {policy.stop_reason or 'no reason given'}", None)
    windows = [Freeze(f.reason, f.end) for f in policy.freezes if f.start <= now < f.end]
    windows += [w for w in (_recurring(r, now) for r in policy.recurring_freezes) if w]
    return max(windows, key=lambda w: w.until or now, default=None)


def next_runs(policy: PromotionPolicy, now: datetime) -> list[tuple[CronSchedule, datetime]]:
    """Each schedule with the next time it fires after ``now``, in its own time zone."""
    return [
        (s, next(CronSim(s.cron, now.astimezone(ZoneInfo(s.timezone)).replace(microsecond=0))))
        for s in policy.schedules
    ]


def _skip(candidate: Candidate, why: str) -> Decision:
    return Decision(candidate.app, candidate.target_version, candidate.source_version, False, why)


def _one(policy: PromotionPolicy, candidate: Candidate, now: datetime) -> Decision:
    if candidate.pin is not None:
        return _skip(candidate, str(candidate.pin))
    if candidate.source_refused is not None:
        return _skip(candidate, f"refused on {policy.source}: {candidate.source_refused}")
    if candidate.source_version is None:
        return _skip(candidate, f"runs nowhere on {policy.source}")
    if candidate.source_version == candidate.target_version:
        return _skip(candidate, f"already runs {candidate.source_version}")
    if candidate.source_since is not None:
        soaked = candidate.source_since + timedelta(minutes=policy.soak_minutes)
        if now < soaked:
            served = int((now - candidate.source_since).total_seconds() // 60)
            return _skip(
                candidate,
                f"not soaked yet: served on {policy.source} for {served} of "
                f"{policy.soak_minutes} min (eligible at {soaked.astimezone(UTC):%H:%M} UTC)",
            )
    if candidate.config_missing is not None:
        return _skip(candidate, f"configuration missing: {candidate.config_missing}")
    return Decision(
        candidate.app, candidate.target_version, candidate.source_version, True, "eligible"
    )


def decide(policy: PromotionPolicy, candidates: list[Candidate], now: datetime) -> list[Decision]:
    """One decision per app the policy covers, in app order."""
    frozen = active_freeze(policy, now)
    covered = sorted((c for c in candidates if policy.covers(c.app)), key=lambda c: c.app)
    if frozen is not None:
        return [_skip(c, str(frozen)) for c in covered]
    return [_one(policy, c, now) for c in covered]
