"""Published library builds: immutable, versioned, addressed by content digest. On one
machine they live in the home's library store; for a team, in the workspace's registry.
The names are loaded on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from oneclick.lazy import lazy_exports

if TYPE_CHECKING:
    from oneclick.home import Home
    from oneclick.libraries.build import LibraryBuild as LibraryBuild
    from oneclick.libraries.build import StaticRecord as StaticRecord
    from oneclick.libraries.registry_store import RegistryLibraryStore as RegistryLibraryStore
    from oneclick.libraries.store import LibraryPublishResult as LibraryPublishResult
    from oneclick.libraries.store import LibraryStore as LibraryStore


def library_store(home: Home) -> LibraryStore:
    """The library store ``home`` names: its registry's, cached under the home, or the home's."""
    from oneclick.libraries.registry_store import RegistryLibraryStore
    from oneclick.libraries.store import LibraryStore

    if home.library_registry is not None:
        return RegistryLibraryStore(home.library_registry, home.libraries)
    return LibraryStore(home.libraries)


_WHERE = {
    "LibraryBuild": "build",
    "LibraryPublishResult": "store",
    "LibraryStore": "store",
    "RegistryLibraryStore": "registry_store",
    "StaticRecord": "build",
}
__all__ = sorted([*_WHERE, "library_store"])
__getattr__ = lazy_exports(__name__, _WHERE)
