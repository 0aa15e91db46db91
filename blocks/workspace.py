"""The workspace block: where a team's shared state lives, so that flows run on any worker.

One document, named ``default``. Without it (the embedded default), the release catalog and
the library builds stay under each machine's ONECLICK_HOME, which suits one machine only.

It is also a Prefect result storage block: made the server's default result storage
(``prefect experimental result-storage set oneclick-workspace/default``), Prefect keeps result
records in the workspace's catalog, where a flow run resumed on another worker finds them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio.to_thread
from prefect.filesystems import WritableFileSystem
from pydantic import Field, SecretStr

if TYPE_CHECKING:
    from oneclick.releases.results import Results

WORKSPACE = "default"


class Workspace(WritableFileSystem):
    _block_type_name = "oneclick Workspace"
    _block_type_slug = "oneclick-workspace"
    _description = (
        "Where a team's shared state lives: the release catalog's database and the registry "
        "holding library builds. Name it 'default'. As the server's default result storage, "
        "it keeps Prefect's results in the catalog, for runs resumed on another worker."
    )

    catalog_url: SecretStr | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the release catalog (releases, deployments, leases, pins, the "
            "relay's deliveries, flow results), e.g. "
            "postgresql+psycopg://user:pass@host/oneclick. "
            "Empty: a SQLite file under each machine's ONECLICK_HOME."
        ),
    )
    library_registry: str = Field(
        default="",
        description=(
            "Name of the 'oneclick Registry' block library builds are stored in, as OCI "
            "artifacts. Empty: under each machine's ONECLICK_HOME."
        ),
    )

    def _results(self) -> Results:
        from oneclick.home import Home
        from oneclick.releases import Catalog
        from oneclick.releases.results import Results

        url = self.catalog_url.get_secret_value() if self.catalog_url else None
        return Results(Catalog(url or Home.from_env().ensure().catalog_url))

    # Prefect calls storage blocks with ``_sync=True`` from synchronous code and the
    # ``a``-prefixed methods from asynchronous code.
    def read_path(self, path: str, _sync: bool = True) -> bytes:  # type: ignore[override]
        return self._results().read(path)

    def write_path(self, path: str, content: bytes, _sync: bool = True) -> None:  # type: ignore[override]
        self._results().write(path, content)

    async def aread_path(self, path: str) -> bytes:
        return await anyio.to_thread.run_sync(self._results().read, path)

    async def awrite_path(self, path: str, content: bytes) -> None:
        await anyio.to_thread.run_sync(self._results().write, path, content)
