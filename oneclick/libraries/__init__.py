"""Published library builds: immutable, versioned, addressed by content digest."""

from __future__ import annotations

from oneclick.libraries.build import LibraryBuild, StaticRecord

__all__ = ["LibraryBuild", "StaticRecord"]
