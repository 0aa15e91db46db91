"""Defaults against their types, and the order of semantic versions."""

from __future__ import annotations

import pytest

from oneclick.model import semver_key
from oneclick.model.types import Scalar
from oneclick.model.values import default_problem


@pytest.mark.parametrize(
    ("type_name", "value", "kwargs"),
    [
        ("text", "hello", {}),
        ("integer", 2**31 - 1, {}),
        ("long", 2**40, {}),
        ("decimal", 12.5, {"precision": 4, "scale": 2}),
        ("decimal", "99.99", {"precision": 4, "scale": 2}),
        ("decimal", 3, {}),
        ("boolean", False, {}),
        ("date", "2024-02-29", {}),
        ("datetime", "2024-01-31T09:30:00", {}),
        ("datetime", "2024-01-31 09:30:00+02:00", {}),
        ("email", "ann@example.com", {}),
        ("phone", "+49 (30) 123-456", {}),
        ("finance-common.Category", "Travel", {"records": ["Travel", "Meals"]}),
    ],
)
def test_defaults_that_fit(type_name: str, value: Scalar, kwargs: dict[str, object]) -> None:
    assert default_problem(type_name, value, **kwargs) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("type_name", "value", "kwargs", "expected"),
    [
        ("text", 12, {}, "text (put the value in quotes)"),
        ("integer", True, {}, "a whole number between -2147483648 and 2147483647"),
        ("integer", 2**31, {}, "a whole number between -2147483648 and 2147483647"),
        ("long", 1.5, {}, "a whole number between"),
        ("decimal", "abc", {}, "a number such as 12.50"),
        ("decimal", "nan", {}, "a number such as 12.50"),
        ("decimal", 1.125, {"scale": 2}, "at most 2 digits after the point"),
        ("decimal", 123.5, {"precision": 4, "scale": 2}, "at most 2 digits before the point"),
        ("boolean", "true", {}, "true or false"),
        ("date", "2023-02-29", {}, "an ISO date such as 2024-01-31"),
        ("date", "20240131", {}, "an ISO date such as 2024-01-31"),
        ("datetime", "2024-01-31", {}, "an ISO date and time"),
        ("email", "ann.example.com", {}, "an email address"),
        ("phone", 5551234, {}, "a phone number"),
        ("x.Y", "Hotel", {"records": ["Travel"]}, "one of the record keys: Travel"),
    ],
)
def test_defaults_that_do_not_fit(
    type_name: str, value: Scalar, kwargs: dict[str, object], expected: str
) -> None:
    problem = default_problem(type_name, value, **kwargs)  # type: ignore[arg-type]
    assert problem is not None and expected in problem


def test_semantic_versions_sort_by_precedence() -> None:
    versions = ["1.10.0", "1.2.0", "1.2.0-rc.1", "1.2.0-alpha", "0.9.9", "1.2.0-rc.10", "2.0.0"]
    assert sorted(versions, key=semver_key) == [
        "0.9.9",
        "1.2.0-alpha",
        "1.2.0-rc.1",
        "1.2.0-rc.10",
        "1.2.0",
        "1.10.0",
        "2.0.0",
    ]
    with pytest.raises(ValueError, match="not a semantic version"):
        semver_key("1.2")
