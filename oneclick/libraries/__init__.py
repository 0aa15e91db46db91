"""Published library builds: immutable, versioned, addressed by content digest."""

from __future__ import annotations

from oneclick.libraries.build import LibraryBuild, StaticRecord
from oneclick.libraries.store import LibraryPublishResult, LibraryStore

__all__ = ["LibraryBuild", "LibraryPublishResult", "LibraryStore", "StaticRecord"]
