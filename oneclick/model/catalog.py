"""What the model checks need to know about published libraries.

``LibraryCatalog`` is the one question the checks ask: which versions of a library are
published, and which static entities (with their record keys) a published version has.
``oneclick.libraries.LibraryStore`` implements it over the library store on disk;
``MappingCatalog`` implements it over plain data, for callers that already hold the answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from oneclick.model.semver import semver_key


class LibraryCatalog(Protocol):
    """Published libraries, as the model checks see them."""

    def versions(self, name: str) -> list[str]:
        """The published versions of library ``name``, oldest first (empty if none)."""
        ...

    def static_entities(self, name: str, version: str) -> Mapping[str, Sequence[str]] | None:
        """Static entity name → record keys of ``name`` ``version``; None if not published."""
        ...


class MappingCatalog:
    """A catalog held in memory: (name, version) → static entity name → record keys."""

    def __init__(self, libraries: Mapping[tuple[str, str], Mapping[str, Sequence[str]]]) -> None:
        self._libraries = {key: dict(value) for key, value in libraries.items()}

    def versions(self, name: str) -> list[str]:
        found = [version for (lib, version) in self._libraries if lib == name]
        return sorted(found, key=semver_key)

    def static_entities(self, name: str, version: str) -> Mapping[str, Sequence[str]] | None:
        return self._libraries.get((name, version))
