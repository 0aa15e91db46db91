"""The value that describes one compiled library build on disk.

A library build is a directory holding ``manifest.json`` (written by the compiler) and the
bundled files: ``enums.py`` (static entities as Python enumerations), ``enums.js`` (the same
for the browser) and, when the library has styles, ``styles.css``.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from oneclick.model.types import LibraryRef


class StaticRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    label: str


class LibraryBuild(BaseModel):
    """A compiled library: what its manifest says, and where the build directory is."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    digest: str
    path: Path
    static_entities: dict[str, list[StaticRecord]] = {}
    libraries: list[LibraryRef] = []

    @classmethod
    def from_directory(cls, path: Path) -> LibraryBuild:
        """Read ``path/manifest.json`` of a compiled library build."""
        data = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        return cls(
            name=data["name"],
            version=data["version"],
            digest=data["digest"],
            path=path,
            static_entities={
                name: [StaticRecord(**r) for r in records]
                for name, records in data.get("static_entities", {}).items()
            },
            libraries=[LibraryRef(**ref) for ref in data.get("libraries", [])],
        )
