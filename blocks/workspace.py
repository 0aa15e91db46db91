"""The workspace block: where a team's shared state lives, so that flows run on any worker.

One document, named ``default``. Without it (the embedded default), the release catalog and
the library builds stay under each machine's ONECLICK_HOME, which suits one machine only.
"""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

WORKSPACE = "default"


class Workspace(Block):
    _block_type_name = "oneclick Workspace"
    _block_type_slug = "oneclick-workspace"
    _description = (
        "Where a team's shared state lives: the release catalog's database and the registry "
        "holding library builds. Name it 'default'."
    )

    catalog_url: SecretStr | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the release catalog (releases, deployments, leases, pins, the "
            "relay's deliveries), e.g. postgresql+psycopg://user:pass@host/oneclick. "
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
