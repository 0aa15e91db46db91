"""Check and convert attribute values between JSON and the database.

``read_record`` turns a JSON object into {attribute name: Python value}: unknown names,
wrong types, text too long, numbers out of range or with too many digits, malformed dates,
email addresses and phone numbers, missing mandatory values and unknown static entity keys
raise ``Invalid``, whose message starts with the first invalid attribute's name and whose
``problems`` name every invalid attribute of the record. An empty string counts
as no value. Defaults apply when creating. ``write_record`` turns a stored record back into
JSON values: decimals as strings with the attribute's scale, dates in ISO 8601.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Context, Decimal, InvalidOperation
from typing import Any

INTEGER_RANGE = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
INTEGER_RANGE["reference"] = (1, 2**31 - 1)
WHOLE_NUMBER = re.compile(r"^[+-]?[0-9]{1,20}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
PHONE = re.compile(r"^\+?[0-9()./ -]+$")
TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")


MAX_PROBLEMS = 50


class Invalid(ValueError):
    """Values that break the model; ``attribute`` is None for the request as a whole.

    ``problems`` holds one ``{"attribute": name, "message": text without the name}`` per
    invalid attribute (plus ``"missing": Id`` for a reference to a record that does not
    exist), so a form can mark every field at once and name each by its label.
    """

    def __init__(self, attribute: str | None, message: str, *, missing: int | None = None) -> None:
        self.attribute = attribute
        self.message = f"{attribute}: {message}" if attribute else message
        problem: dict[str, Any] = {"attribute": attribute, "message": message}
        if missing is not None:
            problem["missing"] = missing
        self.problems = [problem]
        super().__init__(self.message)

    @classmethod
    def together(cls, found: list[Invalid]) -> Invalid:
        """One ``Invalid`` for several: the first one's message, naming the others."""
        combined = found[0]
        if len(found) > 1:
            others = [str(problem.attribute) for problem in found[1:]]
            shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
            combined = cls(
                found[0].attribute, f"{found[0].problems[0]['message']} (also invalid: {shown})"
            )
            combined.problems = [p for problem in found for p in problem.problems][:MAX_PROBLEMS]
        return combined


def describe(raw: Any) -> str:
    """How a JSON value looks, for messages (user text is shortened, never interpreted)."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return repr(raw if len(raw) <= 40 else raw[:40] + "...")
    if isinstance(raw, int | Decimal | float):
        return f"the number {raw}"
    return "a list" if isinstance(raw, list) else "an object"


def read_record(
    entity: dict[str, Any],
    payload: Any,
    statics: dict[str, dict[str, str]],
    *,
    creating: bool,
    partial: bool = False,
) -> dict[str, Any]:
    """The attribute values in ``payload`` (a JSON object), checked and converted."""
    if not isinstance(payload, dict):
        raise Invalid(None, f"expected a JSON object with the attributes of {entity['name']}")
    attributes = {a["name"]: a for a in entity["attributes"]}
    expected = f"{entity['name']} has no such attribute; expected one of " + ", ".join(attributes)
    problems = [
        Invalid(str(key)[:60], expected) for key in payload if key != "Id" and key not in attributes
    ]
    values: dict[str, Any] = {}
    for name, attribute in attributes.items():
        if name in payload:
            raw = payload[name]
        elif partial:
            continue
        else:
            raw = attribute["default"] if creating else None
        try:
            values[name] = read_value(attribute, raw, statics)
        except Invalid as problem:
            problems.append(problem)
    if problems:
        raise Invalid.together(problems)
    return values


def read_value(attribute: dict[str, Any], raw: Any, statics: dict[str, dict[str, str]]) -> Any:
    name = attribute["name"]
    if raw is None or raw == "":
        if attribute["mandatory"]:
            raise Invalid(name, "is mandatory; expected a value")
        return None
    kind = attribute["type"]
    if kind == "static":
        return _read_static(attribute, raw, statics)
    reader = _READERS[kind]
    return reader(attribute, raw)


def _text(attribute: dict[str, Any], raw: Any, what: str = "text") -> str:
    if not isinstance(raw, str):
        raise Invalid(attribute["name"], f"expected {what}, found {describe(raw)}")
    if len(raw) > attribute["length"]:
        raise Invalid(
            attribute["name"],
            f"expected at most {attribute['length']} characters, found {len(raw)}",
        )
    return raw


def _email(attribute: dict[str, Any], raw: Any) -> str:
    text = _text(attribute, raw, "an email address")
    if not EMAIL.match(text):
        raise Invalid(
            attribute["name"],
            f"expected an email address like name@example.com, found {describe(raw)}",
        )
    return text


def _phone(attribute: dict[str, Any], raw: Any) -> str:
    text = _text(attribute, raw, "a phone number")
    if not PHONE.match(text) or sum(c.isdigit() for c in text) < 3:
        raise Invalid(
            attribute["name"],
            f"expected a phone number of digits, spaces and + ( ) - . /, found {describe(raw)}",
        )
    return text


def _whole(attribute: dict[str, Any], raw: Any) -> int:
    if isinstance(raw, str) and WHOLE_NUMBER.match(raw.strip()):
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise Invalid(attribute["name"], f"expected a whole number, found {describe(raw)}")
    low, high = INTEGER_RANGE[attribute["type"]]
    if not low <= raw <= high:
        raise Invalid(
            attribute["name"], f"expected a whole number from {low} to {high}, found {raw}"
        )
    return int(raw)


def _decimal(attribute: dict[str, Any], raw: Any) -> Decimal:
    name, precision, scale = attribute["name"], attribute["precision"], attribute["scale"]
    number = None
    if isinstance(raw, int | Decimal | float | str) and not isinstance(raw, bool):
        try:
            number = Decimal(str(raw).strip()) if len(str(raw)) <= 100 else None
        except InvalidOperation:
            number = None
    if number is None or not number.is_finite():
        raise Invalid(name, f"expected a decimal number like 12.50, found {describe(raw)}")
    if number != 0 and number.adjusted() >= precision - scale:
        raise Invalid(
            name,
            f"expected at most {precision - scale} digits before the decimal point, "
            f"found {describe(raw)}",
        )
    exact = number.quantize(Decimal(1).scaleb(-scale), context=Context(prec=precision + 2))
    if exact != number:
        raise Invalid(
            name, f"expected at most {scale} digits after the decimal point, found {describe(raw)}"
        )
    return exact


def _boolean(attribute: dict[str, Any], raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise Invalid(attribute["name"], f"expected true or false, found {describe(raw)}")
    return raw


def _date(attribute: dict[str, Any], raw: Any) -> dt.date:
    try:
        if isinstance(raw, str):
            return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    raise Invalid(attribute["name"], f"expected a date like 2024-12-31, found {describe(raw)}")


def _datetime(attribute: dict[str, Any], raw: Any) -> dt.datetime:
    try:
        if isinstance(raw, str):
            value = dt.datetime.fromisoformat(raw)
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            return value
    except ValueError:
        pass
    raise Invalid(
        attribute["name"],
        f"expected a date and time like 2024-12-31T17:30:00, found {describe(raw)}",
    )


def _read_static(attribute: dict[str, Any], raw: Any, statics: dict[str, dict[str, str]]) -> str:
    qualified = f"{attribute['library']}.{attribute['static']}"
    keys = statics.get(qualified, {})
    if not isinstance(raw, str) or raw not in keys:
        raise Invalid(
            attribute["name"],
            f"expected a key of {qualified} ({', '.join(keys)}), found {describe(raw)}",
        )
    return raw


_READERS = {
    "text": _text,
    "email": _email,
    "phone": _phone,
    "integer": _whole,
    "long": _whole,
    "reference": _whole,
    "decimal": _decimal,
    "boolean": _boolean,
    "date": _date,
    "datetime": _datetime,
}


def write_value(attribute: dict[str, Any], value: Any) -> Any:
    """A stored value as JSON carries it."""
    if value is None:
        return None
    kind = attribute["type"]
    if kind == "decimal":
        number = Decimal(str(value)).quantize(
            Decimal(1).scaleb(-attribute["scale"]), context=Context(prec=80)
        )
        return format(number, "f")
    if kind == "boolean":
        return bool(value)
    if kind in ("date", "datetime"):
        return value.isoformat()
    return value


def write_record(entity: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    result = {"Id": record["Id"]}
    for attribute in entity["attributes"]:
        result[attribute["name"]] = write_value(attribute, record.get(attribute["name"]))
    return result


def parse_setting(kind: str, raw: str) -> Any:
    """A setting's string value as its type; ValueError when it does not parse."""
    text = raw.strip()
    if kind in ("integer", "long"):
        return int(text)
    if kind == "decimal":
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(text) from exc
        if not number.is_finite():
            raise ValueError(text)
        return number
    if kind == "boolean":
        if text.lower() in TRUE_WORDS + FALSE_WORDS:
            return text.lower() in TRUE_WORDS
        raise ValueError(text)
    if kind == "date":
        return dt.date.fromisoformat(text)
    if kind == "datetime":
        return dt.datetime.fromisoformat(text)
    if kind == "email" and not EMAIL.match(text):
        raise ValueError(text)
    return raw


def json_value(value: Any) -> Any:
    """A setting value as JSON carries it."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
