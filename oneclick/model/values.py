"""Does a default value from the model fit the type it is the default of?

``default_problem(type_name, value, ...)`` answers with what was expected ("a whole number
between ... and ...", "an ISO date such as 2024-01-31") when the value does not fit, and
None when it does. It covers the basic types of attributes and settings, and the record keys
of a library's static entity. Text length defaults to ``DEFAULT_TEXT_LENGTH`` when the
attribute gives none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from oneclick.model.types import Scalar

DEFAULT_TEXT_LENGTH = 50
INTEGER_RANGE = (-(2**31), 2**31 - 1)
LONG_RANGE = (-(2**63), 2**63 - 1)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{3,30}$")


def default_problem(
    type_name: str,
    value: Scalar,
    *,
    length: int | None = None,
    precision: int | None = None,
    scale: int | None = None,
    records: Sequence[str] | None = None,
) -> str | None:
    """What ``value`` should have been to be a ``type_name``, or None if it is fine.

    ``records`` are the record keys when ``type_name`` is a library's static entity.
    """
    if records is not None:
        return None if value in records else f"one of the record keys: {', '.join(records)}"
    if type_name in ("text", "email", "phone"):
        return _text_problem(type_name, value, length)
    if type_name in ("integer", "long"):
        low, high = INTEGER_RANGE if type_name == "integer" else LONG_RANGE
        fits = _is_int(value) and low <= int(value) <= high
        return None if fits else f"a whole number between {low} and {high}"
    if type_name == "decimal":
        return _decimal_problem(value, precision, scale)
    if type_name == "boolean":
        return None if isinstance(value, bool) else "true or false"
    if type_name == "date":
        return None if _is_iso_date(value) else "an ISO date such as 2024-01-31"
    if type_name == "datetime":
        expected = "an ISO date and time such as 2024-01-31T09:30:00"
        return None if _is_iso_datetime(value) else expected
    return None


def _text_problem(type_name: str, value: Scalar, length: int | None) -> str | None:
    if type_name == "email":
        fits = isinstance(value, str) and _EMAIL.match(value) is not None
        return None if fits else "an email address such as name@example.com"
    if type_name == "phone":
        fits = isinstance(value, str) and _PHONE.match(value) is not None
        return None if fits else "a phone number (digits, spaces, '+', '-', parentheses), in quotes"
    if not isinstance(value, str):
        return "text (put the value in quotes)"
    limit = length if length is not None else DEFAULT_TEXT_LENGTH
    if len(value) > limit:
        return f"text of at most {limit} characters (the length), not {len(value)}"
    return None


def _decimal_problem(value: Scalar, precision: int | None, scale: int | None) -> str | None:
    number = _as_decimal(value)
    if number is None:
        return "a number such as 12.50"
    exponent = number.as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if scale is not None and decimals > scale:
        return f"a number with at most {scale} digits after the point (the scale)"
    whole = len(str(abs(int(number)))) if int(number) != 0 else 0
    if precision is not None and whole > precision - (scale or 0):
        return f"a number with at most {precision - (scale or 0)} digits before the point"
    return None


def _as_decimal(value: Scalar) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip()) if isinstance(value, str | int | float) else None
    except InvalidOperation:
        return None
    return number if number is not None and number.is_finite() else None


def _is_int(value: Scalar) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_iso_date(value: Scalar) -> bool:
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_iso_datetime(value: Scalar) -> bool:
    if not isinstance(value, str) or not _ISO_DATETIME.match(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True
