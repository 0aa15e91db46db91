"""What a running app reads at start: its manifest, its libraries, settings and secrets.

- The build manifest is ``<app dir>/manifest.json``; a database recording its
  ``schema_fingerprint`` is ready for this build at once (``/readyz``'s fast path; any other
  recorded schema is checked for fit, see ``schema_fit``).
- Library builds are in ``Path(__file__).resolve().parents[2] / "libs" / <name>``; each
  library's ``enums.py`` is loaded by file path and its enumerations give the valid keys
  (and ``LABELS`` the labels) of its static entities.
- ``ONECLICK_SETTING_<Name>`` holds each setting as a string, typed through the spec; when
  absent the model's default applies. A value that does not parse, or a setting with neither
  value nor default, is a problem: logged, left unset, and reported by ``/readyz``.
- ``ONECLICK_SECRET_<Name>`` holds each secret. Secrets are kept in a ``Secrets`` object
  that never shows its values in ``repr``, logs or responses.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from .values import parse_setting

log = logging.getLogger("server")

APP_DIR = Path(__file__).resolve().parents[1]
LIBS_DIR = Path(__file__).resolve().parents[2] / "libs"
STATIC_DIR = APP_DIR / "static"
DATABASE_URL_VARIABLE = "ONECLICK_DATABASE_URL"
SETTING_PREFIX = "ONECLICK_SETTING_"
SECRET_PREFIX = "ONECLICK_SECRET_"


def read_manifest() -> dict[str, Any]:
    with open(APP_DIR / "manifest.json", encoding="utf-8") as file:
        manifest: dict[str, Any] = json.load(file)
    return manifest


def load_library(name: str) -> ModuleType:
    """The ``enums.py`` of bundled library ``name``; RuntimeError when it is missing."""
    path = LIBS_DIR / name / "enums.py"
    if not path.is_file():
        raise RuntimeError(
            f"library {name}: expected its build at {path.parent}, found no enums.py; "
            "the image must bundle every library of the app"
        )
    module_name = "oneclick_library_" + name.replace("-", "_")
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise RuntimeError(f"library {name}: cannot load {path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def load_static_entities(spec: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """``"<library>.<Entity>"`` → key → label, in record order, for every bundled library."""
    found: dict[str, dict[str, str]] = {}
    for library in spec["libraries"]:
        module = load_library(library["name"])
        for entity, labels in module.LABELS.items():
            enumeration = getattr(module, entity)
            keys = [member.value for member in enumeration]
            found[f"{library['name']}.{entity}"] = {key: labels.get(key, key) for key in keys}
    return found


def read_settings(
    spec: Mapping[str, Any], environ: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """Typed setting values (None when unset) and a message for each one that is wrong."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for setting in spec["settings"]:
        name = setting["name"]
        raw = environ.get(SETTING_PREFIX + name, setting["default"])
        values[name] = None
        if raw is None:
            problems.append(f"setting {name}: no value in {SETTING_PREFIX}{name} and no default")
            continue
        try:
            values[name] = parse_setting(setting["type"], raw)
        except ValueError:
            article = "an" if setting["type"][0] in "aeiou" else "a"
            problems.append(
                f"setting {name}: expected {article} {setting['type']} in "
                f"{SETTING_PREFIX}{name}, found {raw[:40]!r}"
            )
    for problem in problems:
        log.warning("%s", problem)
    return values, problems


class Secrets:
    """The app's secrets. ``repr`` and ``str`` name them, never show their values."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def get(self, name: str) -> str | None:
        return self._values.get(name)

    def __repr__(self) -> str:
        return f"Secrets({', '.join(sorted(self._values))})"

    __str__ = __repr__


def read_secrets(spec: Mapping[str, Any], environ: Mapping[str, str]) -> Secrets:
    values = {}
    for name in spec["secrets"]:
        value = environ.get(SECRET_PREFIX + name)
        if value is None:
            log.warning("secret %s: %s%s is not set", name, SECRET_PREFIX, name)
        else:
            values[name] = value
    return Secrets(values)
