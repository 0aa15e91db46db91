"""Emit values safely into generated Python, JavaScript, JSON and HTML.

Every piece of user text (titles, labels, setting defaults) reaches generated code only
through these functions: Python through ``repr``, JavaScript through JSON with the
characters that could end a ``<script>`` element or a line escaped, HTML through
``html.escape`` with quotes. Output is deterministic: the same value gives the same text.
"""

from __future__ import annotations

import html
import json
import pprint
from typing import Any

_JS_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def python_literal(value: Any) -> str:
    """A Python expression that evaluates to ``value`` (plain data: dicts keep their order)."""
    return pprint.pformat(value, indent=1, width=100, sort_dicts=False)


def js_literal(value: Any) -> str:
    """A JavaScript expression for the JSON-compatible ``value``; safe inside a script element."""
    text = json.dumps(value, ensure_ascii=False, indent=1, allow_nan=False)
    for character, escaped in _JS_ESCAPES.items():
        text = text.replace(character, escaped)
    return text


def html_text(value: str) -> str:
    """``value`` as HTML text or a double- or single-quoted attribute value."""
    return html.escape(value, quote=True)


def json_document(value: Any) -> str:
    """The manifest form: sorted keys, two-space indent, trailing newline."""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
