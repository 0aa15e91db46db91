"""YAML 1.2 for model files: PyYAML reads YAML 1.1, where ``No``, ``on`` and ``y`` are
booleans, ``0777`` is octal and ``1:20`` is a number. Models follow the YAML 1.2 core schema
instead: only ``true``/``false`` are booleans, ``null``/``~``/nothing is null, and numbers are
plain decimal, ``0o`` octal or ``0x`` hexadecimal integers and decimal floats. Everything
else is text, so ``label: No`` is the text "No".
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

_TAG = "tag:yaml.org,2002:"
_CORE = {
    "null": r"^(?:~|null|Null|NULL|)$",
    "bool": r"^(?:true|True|TRUE|false|False|FALSE)$",
    "int": r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$",
    "float": (
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
}
_FIRST = {
    "null": ["~", "n", "N", ""],
    "bool": list("tTfF"),
    "int": list("-+0123456789"),
    "float": list("-+.0123456789"),
}


class Loader(yaml.SafeLoader):
    """PyYAML's safe loader with the YAML 1.2 core schema's implicit types."""


Loader.yaml_implicit_resolvers = {
    first: [
        (tag, rx) for tag, rx in resolvers if not tag.endswith(("bool", "int", "float", "null"))
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _name, _pattern in _CORE.items():
    Loader.add_implicit_resolver(f"{_TAG}{_name}", re.compile(_pattern), _FIRST[_name])

PLAIN_TAGS = frozenset(f"{_TAG}{name}" for name in _CORE)


def plain_value(tag: str, text: str) -> Any:
    """The value of a plain scalar the loader resolved to ``tag`` (one of ``PLAIN_TAGS``)."""
    kind = tag.removeprefix(_TAG)
    if kind == "null":
        return None
    if kind == "bool":
        return text.lower() == "true"
    if kind == "int":
        base = {"0o": 8, "0x": 16}.get(text[:2], 10)
        return int(text[2:] if base != 10 else text, base)
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    return float(text)
