"""Promotion policies evaluated with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from oneclick.policies import (
    Candidate,
    FreezePeriod,
    Pin,
    PromotionPolicy,
    RecurringFreeze,
    active_freeze,
    decide,
    next_runs,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def policy(**fields: object) -> PromotionPolicy:
    return PromotionPolicy.model_validate({"source": "development", **fields})


def candidate(app: str = "expenses", **fields: object) -> Candidate:
    values: dict[str, object] = {
        "source_version": "1.0.2",
        "source_since": NOW - timedelta(hours=3),
        "target_version": "1.0.1",
    }
    values.update(fields)
    return Candidate(app, **values)  # type: ignore[arg-type]


def reasons(p: PromotionPolicy, *candidates: Candidate, now: datetime = NOW) -> dict[str, str]:
    return {d.app: d.reason for d in decide(p, list(candidates), now)}


def test_an_eligible_app_is_promoted_from_what_the_target_runs_to_what_the_source_runs() -> None:
    [decision] = decide(policy(), [candidate()], NOW)
    assert (decision.promote, decision.from_version, decision.to_version) == (
        True,
        "1.0.1",
        "1.0.2",
    )


def test_soak_time_counts_from_when_the_release_started_serving_on_the_source() -> None:
    p = policy(soak_minutes=60)
    young = candidate(source_since=NOW - timedelta(minutes=59))
    [decision] = decide(p, [young], NOW)
    assert not decision.promote
    assert decision.reason.startswith("not soaked yet: served on development for 59 of 60 min")
    assert decide(p, [young], NOW + timedelta(minutes=1))[0].promote


def test_every_skip_reason_is_stated() -> None:
    pinned = Pin("1.0.0", NOW - timedelta(hours=1), "by rollback")
    got = reasons(
        policy(),
        candidate("a", pin=pinned),
        candidate("b", source_refused="failed: the schema change would lose data"),
        candidate("c", source_version=None, source_since=None),
        candidate("d", target_version="1.0.2"),
        candidate("e", config_missing="secret PaymentsApiKey"),
    )
    assert got == {
        "a": "pinned on 1.0.0 by rollback at 2026-12-03 11:00 UTC",
        "b": "refused on development: failed: the schema change would lose data",
        "c": "runs nowhere on development",
        "d": "already runs 1.0.2",
        "e": "configuration missing: secret PaymentsApiKey",
    }


def test_only_the_listed_apps_are_considered() -> None:
    got = reasons(policy(apps=["b"]), candidate("a"), candidate("b"))
    assert got == {"b": "eligible"}


def test_stop_the_line_freezes_everything_until_switched_off() -> None:
    p = policy(stop_the_line=True, stop_reason="incident 42")
    assert reasons(p, candidate()) == {"expenses": "frozen: the line is stopped: incident 42"}
    freeze = active_freeze(p, NOW + timedelta(days=400))
    assert freeze is not None and freeze.until is None


def test_a_one_off_freeze_holds_from_its_start_until_its_end() -> None:
    window = FreezePeriod(start=NOW, end=NOW + timedelta(hours=2), reason="release week")
    p = policy(freezes=[window])
    assert active_freeze(p, NOW - timedelta(seconds=1)) is None
    assert str(active_freeze(p, NOW)) == "frozen: release week until 2026-12-03 14:00 UTC"
    assert active_freeze(p, NOW + timedelta(hours=2)) is None


def test_a_recurring_freeze_is_read_in_its_time_zone() -> None:
    # every Friday 18:00 in Berlin (17:00 UTC in winter), for the weekend
    weekend = RecurringFreeze(
        cron="0 18 * * 5", duration_minutes=60 * 62, timezone="Europe/Berlin", reason="weekend"
    )
    p = policy(recurring_freezes=[weekend])
    friday = datetime(2026, 12, 4, 16, 59, tzinfo=UTC)
    assert active_freeze(p, friday) is None
    frozen = active_freeze(p, friday + timedelta(minutes=1))
    assert frozen is not None and frozen.until == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    assert active_freeze(p, datetime(2026, 12, 7, 6, 59, tzinfo=UTC)) is not None
    assert active_freeze(p, datetime(2026, 12, 7, 7, 0, tzinfo=UTC)) is None


def test_a_recurring_freeze_across_the_change_to_summer_time_lasts_its_elapsed_duration() -> None:
    # Saturday 2026-03-28 00:00 CET = Friday 23:00 UTC; clocks go forward on Sunday 29th.
    p = policy(
        recurring_freezes=[
            RecurringFreeze(
                cron="0 0 * * 6", duration_minutes=48 * 60, timezone="Europe/Berlin", reason="w"
            )
        ]
    )
    start = datetime(2026, 3, 27, 23, 0, tzinfo=UTC)
    assert active_freeze(p, start - timedelta(minutes=1)) is None
    frozen = active_freeze(p, start)
    assert frozen is not None and frozen.until == start + timedelta(hours=48)
    # Monday 00:30 CEST is 22:30 UTC on Sunday: 47.5 elapsed hours, though 48.5 on the wall
    assert active_freeze(p, datetime(2026, 3, 30, 0, 30, tzinfo=BERLIN)) is not None
    assert active_freeze(p, datetime(2026, 3, 29, 23, 0, tzinfo=UTC)) is None


def test_schedules_keep_their_local_time_across_a_daylight_saving_change() -> None:
    p = policy(
        schedules=[{"cron": "0 2 * * *", "timezone": "America/New_York"}, {"cron": "0 3 * * *"}]
    )
    before = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)  # 20:00 EDT on Oct 31
    [(ny, first), (utc, second)] = next_runs(p, before)
    assert first == datetime(2026, 11, 1, 2, 0, tzinfo=ZoneInfo("America/New_York"))
    assert first.astimezone(UTC).hour == 7  # 02:00 EST, after the change back
    assert (ny.timezone, utc.timezone) == ("America/New_York", "UTC")
    assert second == datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
    later = next_runs(p, datetime(2026, 11, 2, 0, 0, tzinfo=UTC))[0][1]
    assert later.astimezone(UTC).hour == 7


def test_a_freeze_comes_before_a_pin() -> None:
    p = policy(stop_the_line=True, stop_reason="x")
    pinned = candidate(pin=Pin("1.0.0", NOW, "by rollback"))
    assert reasons(p, pinned)["expenses"].startswith("frozen")


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("schedules", [{"cron": "0 2 * *"}], "is not a cron expression"),
        ("schedules", [{"cron": "0 2 * * *", "timezone": "Mars/Base"}], "IANA time zone"),
        (
            "freezes",
            [{"start": "2026-12-03T10:00Z", "end": "2026-12-03T09:00Z", "reason": "x"}],
            "must end after it starts",
        ),
    ],
)
def test_a_broken_policy_is_refused_with_what_to_write(
    field: str, value: object, says: str
) -> None:
    with pytest.raises(ValidationError, match=says):
        policy(**{field: value})
