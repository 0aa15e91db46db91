"""App and library models: their pydantic shape, loading from YAML, and whole-model checks.

``load_app`` and ``load_library`` are the front door: they read a model file, check it as a
whole against the published libraries (a ``LibraryCatalog``), and answer a valid model or
raise ``ModelError`` with every problem at its file:line:column.
"""

from __future__ import annotations

from oneclick.model.catalog import LibraryCatalog, MappingCatalog
from oneclick.model.load import APP_FILE, LIBRARY_FILE, load_app, load_library
from oneclick.model.semver import is_semver, semver_key
from oneclick.model.types import (
    BASIC_TYPES,
    AppModel,
    Attribute,
    Entity,
    Index,
    LibraryModel,
    LibraryRef,
    LibraryRequirement,
    Record,
    Screen,
    Secret,
    Setting,
    StaticEntity,
)
from oneclick.model.values import DEFAULT_TEXT_LENGTH

__all__ = [
    "APP_FILE",
    "BASIC_TYPES",
    "DEFAULT_TEXT_LENGTH",
    "LIBRARY_FILE",
    "AppModel",
    "Attribute",
    "Entity",
    "Index",
    "LibraryCatalog",
    "LibraryModel",
    "LibraryRef",
    "LibraryRequirement",
    "MappingCatalog",
    "Record",
    "Screen",
    "Secret",
    "Setting",
    "StaticEntity",
    "is_semver",
    "load_app",
    "load_library",
    "semver_key",
]
