"""Which type changes widen and which could lose data, for reflected and model types alike."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.dialects import postgresql, sqlite

from oneclick.data.widening import judge_type_change, kind_of

WIDENING: list[tuple[Any, Any]] = [
    (String(20), String(200)),
    (String(20), Text()),
    (Integer(), BigInteger()),
    (Integer(), Numeric(10, 0)),
    (Integer(), Numeric(14, 4)),
    (BigInteger(), Numeric(19, 0)),
    (Numeric(8, 2), Numeric(9, 3)),
    (Numeric(8, 2), Numeric(12, 2)),
    (Numeric(8, 2), Numeric()),
    (Date(), DateTime()),
    (sqlite.DATE(), DateTime()),
    (postgresql.INTEGER(), BigInteger()),
]
LOSSY: list[tuple[Any, Any, str]] = [
    (String(20), String(19), "shorter text"),
    (Text(), String(200), "shorter text"),
    (BigInteger(), Integer(), "large values would not fit"),
    (Numeric(8, 2), Integer(), "the fraction would be dropped"),
    (Numeric(8, 2), Numeric(8, 3), "holds 5 digits before the point"),
    (Numeric(8, 2), Numeric(9, 1), "fewer digits after the point"),
    (Numeric(), Numeric(30, 2), "bounds the digits before the point"),
    (Integer(), Numeric(9, 0), "integer values need 10"),
    (BigInteger(), Numeric(18, 0), "long values need 19"),
    (DateTime(), Date(), "the time of day would be dropped"),
    (String(20), Integer(), "cannot all be turned into integer"),
    (Integer(), String(50), "cannot all be turned into text(50)"),
    (Boolean(), Integer(), "cannot all be turned into"),
    (Float(), Numeric(10, 2), "cannot all be turned into"),
]


@pytest.mark.parametrize(("old", "new"), WIDENING, ids=lambda t: repr(t))
def test_widening_changes(old: Any, new: Any) -> None:
    verdict = judge_type_change(old, new)
    assert verdict.widening and not verdict.same, verdict


@pytest.mark.parametrize(("old", "new", "reason"), LOSSY, ids=lambda t: repr(t))
def test_lossy_changes_say_why_and_what_to_do(old: Any, new: Any, reason: str) -> None:
    verdict = judge_type_change(old, new)
    assert not verdict.widening and not verdict.same
    assert reason in verdict.reason
    assert verdict.advice


def test_reflected_types_equal_to_the_model_are_the_same() -> None:
    for old, new in [
        (sqlite.VARCHAR(20), String(20)),
        (postgresql.TIMESTAMP(), DateTime()),
        (sqlite.NUMERIC(12, 2), Numeric(12, 2)),
        (postgresql.BOOLEAN(), Boolean()),
    ]:
        assert judge_type_change(old, new).same
    assert str(kind_of(Numeric(12, 2))) == "decimal(12, 2)"
    assert str(kind_of(Text())) == "text(unbounded)"
