"""Scrub secret values out of text before it reaches an error message or a log line.

``redact(text, env)`` replaces, in ``text``, the value of every ``ONECLICK_SECRET_*``
variable of ``env`` and the password inside ``ONECLICK_DATABASE_URL``, in the forms a
program is likely to print them (as is, ``repr``-escaped, JSON-escaped, percent-encoded),
longest first, with ``***``. Empty values are left alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import quote, unquote, urlsplit

SECRET_PREFIX = "ONECLICK_SECRET_"
DATABASE_URL = "ONECLICK_DATABASE_URL"
MASK = "***"


def secret_values(env: Mapping[str, str]) -> list[str]:
    """The values in ``env`` that must never be shown."""
    values = [value for name, value in env.items() if name.startswith(SECRET_PREFIX)]
    url = env.get(DATABASE_URL)
    if url:
        try:
            password = urlsplit(url).password
        except ValueError:
            password = None
        if password:
            values.extend({password, unquote(password)})
    return [value for value in values if value]


def redact(text: str, env: Mapping[str, str]) -> str:
    """``text`` with every secret value of ``env`` replaced by ``***``."""
    forms: set[str] = set()
    for value in secret_values(env):
        forms.update({value, repr(value)[1:-1], json.dumps(value)[1:-1], quote(value, safe="")})
    for form in sorted((f for f in forms if f), key=len, reverse=True):
        text = text.replace(form, MASK)
    return text
