"""Published library builds: immutable, versioned, addressed by content digest. On one
machine they live in the home's library store; for a team, in the workspace's registry."""

from __future__ import annotations

from oneclick.home import Home
from oneclick.libraries.build import LibraryBuild, StaticRecord
from oneclick.libraries.registry_store import RegistryLibraryStore
from oneclick.libraries.store import LibraryPublishResult, LibraryStore


def library_store(home: Home) -> LibraryStore:
    """The library store ``home`` names: its registry's, cached under the home, or the home's."""
    if home.library_registry is not None:
        return RegistryLibraryStore(home.library_registry, home.libraries)
    return LibraryStore(home.libraries)


__all__ = [
    "LibraryBuild",
    "LibraryPublishResult",
    "LibraryStore",
    "RegistryLibraryStore",
    "StaticRecord",
    "library_store",
]
