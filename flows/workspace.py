"""The home a flow run works with: this machine's directory for scratch and caches, and the
shared catalog and library registry the workspace block names (when there is one)."""

from __future__ import annotations

from blocks.registry import Registry
from blocks.workspace import WORKSPACE, Workspace
from oneclick.errors import StageError
from oneclick.home import Home


def open_home() -> Home:
    home = Home.from_env().ensure()
    try:
        block = Workspace.load(WORKSPACE)
    except ValueError:
        return home  # the embedded default: everything under this machine's home
    assert isinstance(block, Workspace)
    registry = None
    if block.library_registry:
        try:
            found = Registry.load(block.library_registry)
        except ValueError as exc:
            raise StageError(
                f"the workspace block names the library registry {block.library_registry!r}, "
                "which has no 'oneclick Registry' block: create it, or clear the field"
            ) from exc
        assert isinstance(found, Registry)
        registry = found.to_config()
    catalog = block.catalog_url.get_secret_value() if block.catalog_url else None
    return home.shared(catalog, registry)
