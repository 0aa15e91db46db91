"""Refused deliveries are logged without a flood: the first of a kind at once, then at most
one line per period with the count of the others."""

from __future__ import annotations

import logging

import pytest

from oneclick.relay.refusals import MAX_KINDS, Refusals


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def test_a_flood_of_one_kind_is_one_line_then_one_line_per_period_with_the_count(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    refusals = Refusals(logging.getLogger("test.refusals"), every=60, clock=clock)
    with caplog.at_level(logging.WARNING, "test.refusals"):
        for _ in range(500):
            refusals.note("github", "bad signature")
        refusals.note("gitea", "bad signature")  # another kind: logged at once
        clock.now += 59
        refusals.note("github", "bad signature")
        assert lines(caplog) == [
            "refused a github delivery: bad signature",
            "refused a gitea delivery: bad signature",
        ]
        clock.now += 1
        refusals.note("github", "bad signature")
    assert lines(caplog)[2:] == [
        "refused a github delivery: bad signature (and 500 more like it since the last such line)"
    ]


def test_counted_refusals_are_logged_on_flush_and_the_table_of_kinds_stays_bounded(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    refusals = Refusals(logging.getLogger("test.refusals"), every=60, clock=clock)
    with caplog.at_level(logging.WARNING, "test.refusals"):
        refusals.note("github", "tampered")
        refusals.note("github", "tampered")
        refusals.flush()
        assert lines(caplog)[-1] == "refused 1 more github deliveries: tampered"
        for number in range(MAX_KINDS + 5):
            refusals.note("github", f"unknown repository r{number}")
        assert len(refusals._kinds) <= MAX_KINDS
    assert len(lines(caplog)) == 2 + MAX_KINDS + 5  # every new kind logged once
