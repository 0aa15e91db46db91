"""Promotion policies: when a stage takes new releases from its source stage, and when it
must not. Values here, evaluated with an injected clock; Prefect blocks hold them."""

from __future__ import annotations

from oneclick.policies.evaluate import (
    Candidate,
    Decision,
    Freeze,
    Pin,
    active_freeze,
    decide,
    next_runs,
)
from oneclick.policies.model import CronSchedule, FreezePeriod, PromotionPolicy, RecurringFreeze

__all__ = [
    "Candidate",
    "CronSchedule",
    "Decision",
    "Freeze",
    "FreezePeriod",
    "Pin",
    "PromotionPolicy",
    "RecurringFreeze",
    "active_freeze",
    "decide",
    "next_runs",
]
