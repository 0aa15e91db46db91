"""Where oneclick keeps its state on this machine.

Everything lives under one directory, ``$ONECLICK_HOME`` (default ``~/.oneclick``):

    catalog.db        the release catalog (SQLite) unless a team's workspace block (or
                      ONECLICK_CATALOG_URL) names another database
    libraries/        published library builds, immutable, by name and version (a cache of
                      the registry's when the workspace block names a library registry)
    images/           the OCI image layout the daemonless builder writes to
    builds/           scratch space: each run compiles in a directory of its own there,
                      removed when the run ends (safe to delete)
    runtime/          the local runtime: unpacked images, process state, logs
    stages/<stage>/   each stage's embedded SQLite databases, one per app
    prefect/          PREFECT_HOME of the local Prefect server started by ``oneclick up``
    sources/          git checkouts of the commits pushes published (safe to delete)
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from oneclick.registry import RegistryConfig


@dataclass(frozen=True)
class Home:
    """This machine's oneclick directory; for a team, also where the shared state lives:
    ``catalog`` (the release catalog's database URL, kept out of reprs) and
    ``library_registry`` (the registry holding library builds), from the workspace block."""

    root: Path
    catalog: str | None = field(default=None, repr=False)
    library_registry: RegistryConfig | None = None

    @classmethod
    def from_env(cls) -> Home:
        raw = os.environ.get("ONECLICK_HOME") or str(Path.home() / ".oneclick")
        return cls(Path(raw).expanduser().resolve())

    def shared(self, catalog: str | None, library_registry: RegistryConfig | None) -> Home:
        """This home with a team's shared catalog and library registry."""
        return replace(self, catalog=catalog or None, library_registry=library_registry)

    @property
    def catalog_url(self) -> str:
        return (
            self.catalog
            or os.environ.get("ONECLICK_CATALOG_URL")
            or f"sqlite:///{self.root / 'catalog.db'}"
        )

    @property
    def libraries(self) -> Path:
        return self.root / "libraries"

    @property
    def images(self) -> Path:
        return self.root / "images"

    @property
    def builds(self) -> Path:
        return self.root / "builds"

    @property
    def runtime(self) -> Path:
        return self.root / "runtime"

    @property
    def prefect(self) -> Path:
        return self.root / "prefect"

    @property
    def sources(self) -> Path:
        return self.root / "sources"

    @contextmanager
    def scratch(self, name: str) -> Iterator[Path]:
        """A build directory of this run's own, removed afterwards: runs never share one."""
        self.builds.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.builds))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def stage_database_url(self, stage: str) -> str:
        """The embedded default: one SQLite file per app in the stage's directory."""
        return f"sqlite:///{self.root / 'stages' / stage / '{app}.db'}"

    def ensure(self) -> Home:
        """The home's directories; a new home is made readable by its owner only (0700)."""
        if not self.root.exists():
            self.root.parent.mkdir(parents=True, exist_ok=True)
            self.root.mkdir(mode=0o700, exist_ok=True)
        for path in (self.libraries, self.images, self.builds, self.runtime):
            path.mkdir(parents=True, exist_ok=True)
        return self

    def open_to_others(self) -> list[str]:
        """The home and the databases and logs in it that other users can read or write:
        the Prefect server's database holds the key to every stage secret."""
        candidates = [
            self.root,
            *self.root.glob("*.db*"),
            *(self.root / "prefect").glob("*"),
            *self.root.glob("stages/*/*.db*"),
            *self.root.glob("runtime/logs/**/*.log"),
        ]
        found = []
        for path in candidates:
            try:
                mode = path.stat().st_mode & 0o777
            except OSError:
                continue
            if mode & 0o077:
                found.append(f"{path} ({mode:04o})")
        return found
