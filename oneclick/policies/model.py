"""A target stage's promotion policy as plain pydantic values (the stage block holds one).

Cron expressions are the five-field kind, read in the entry's IANA time zone, so a 02:00
schedule stays at 02:00 local time across daylight-saving changes. A recurring freeze lasts
``duration_minutes`` of elapsed time from each time its cron expression fires.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


def _cron(value: str) -> str:
    try:
        CronSim(value, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        raise ValueError(
            f"{value!r} is not a cron expression ({exc}); write five fields: "
            "minute hour day-of-month month day-of-week, e.g. '0 2 * * 1-5'"
        ) from exc
    return value


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"{value!r} is not an IANA time zone; write one such as 'UTC' or 'Europe/Berlin'"
        ) from exc
    return value


class CronSchedule(BaseModel):
    model_config = ConfigDict(frozen=True)

    cron: str = Field(description="When to promote: minute hour day month weekday.")
    timezone: str = Field(default="UTC", description="The IANA time zone the cron is read in.")

    _check_cron = field_validator("cron")(_cron)
    _check_zone = field_validator("timezone")(_zone)


class RecurringFreeze(BaseModel):
    model_config = ConfigDict(frozen=True)

    cron: str = Field(description="When each freeze starts: minute hour day month weekday.")
    duration_minutes: int = Field(gt=0, description="How long each freeze lasts, in minutes.")
    timezone: str = Field(default="UTC", description="The IANA time zone the cron is read in.")
    reason: str = Field(description="Shown to whoever is refused, e.g. 'weekend'.")

    _check_cron = field_validator("cron")(_cron)
    _check_zone = field_validator("timezone")(_zone)


class FreezePeriod(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: datetime = Field(description="When the freeze starts (with a time zone).")
    end: datetime = Field(description="When it ends (with a time zone).")
    reason: str = Field(description="Shown to whoever is refused, e.g. 'release week'.")

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @model_validator(mode="after")
    def _ordered(self) -> FreezePeriod:
        if self.end <= self.start:
            raise ValueError(f"a freeze must end after it starts ({self.start} .. {self.end})")
        return self


class PromotionPolicy(BaseModel):
    """How and when a stage takes releases from its source stage. With no source, no
    scheduled promotion runs; freezes and stop-the-line apply to every promotion."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(
        default="", description="The stage releases are promoted from; empty: none on schedule."
    )
    schedules: list[CronSchedule] = Field(
        default_factory=list, description="When scheduled promotions run (cron + time zone)."
    )
    apps: list[str] = Field(
        default_factory=list, description="Which apps are promoted; empty: every app."
    )
    soak_minutes: int = Field(
        default=0,
        ge=0,
        description="A release is promoted only after serving on the source this long.",
    )
    recurring_freezes: list[RecurringFreeze] = Field(
        default_factory=list, description="Windows with no promotions that come back (cron)."
    )
    freezes: list[FreezePeriod] = Field(
        default_factory=list, description="One-off windows with no promotions (from .. until)."
    )
    stop_the_line: bool = Field(
        default=False, description="Stop every promotion into this stage until switched off."
    )
    stop_reason: str = Field(default="", description="Why the line is stopped.")

    def covers(self, app: str) -> bool:
        return not self.apps or app in self.apps
