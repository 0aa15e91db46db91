"""The git source block: a repository branch whose pushes publish an app or a library.

The block document's name is the source's name. The relay (``oneclick relay``) reads these
blocks on every delivery, so a source added or edited in the UI applies at once.
"""

from __future__ import annotations

from typing import Literal

from prefect.blocks.core import Block
from prefect.client.orchestration import get_client
from pydantic import Field, SecretStr

from oneclick.relay import GitSource as GitSourceConfig


class GitSource(Block):
    _block_type_name = "oneclick Git Source"
    _block_type_slug = "oneclick-git-source"
    _description = "A git repository branch whose pushes publish an app or a library."

    provider: Literal["github", "gitlab", "gitea"] = Field(
        default="github", description="Who sends the webhook (Gitea also covers Forgejo)."
    )
    repository: str = Field(description="owner/name, as the provider spells it.")
    branch: str = Field(default="main", description="Pushes to this branch publish.")
    kind: Literal["app", "library"] = Field(default="app", description="What the model is.")
    path: str = Field(default=".", description="The model's directory inside the repository.")
    stage: str = Field(default="development", description="The stage an app is published to.")
    clone_url: str | None = Field(
        default=None,
        description="Where workers clone from; empty: the clone URL the push names.",
    )
    secret: SecretStr = Field(description="The webhook's secret (GitLab: its signing token).")
    update_consumers: bool = Field(
        default=False,
        description="A library only: once a push is published, publish again every app whose "
        "range admits the new version, to the first stage (the update-consumers flow).",
    )

    def to_source(self, name: str) -> GitSourceConfig:
        return GitSourceConfig(name=name, **self.model_dump(exclude={"block_type_slug"}))


def updates_consumers(name: str) -> bool:
    """Whether the git source block ``name`` asks for its consumers to be updated (False
    when there is no such block any more)."""
    try:
        block = GitSource.load(name)
    except ValueError:
        return False
    return isinstance(block, GitSource) and block.update_consumers


def load_git_sources() -> list[GitSourceConfig]:
    """Every git source block, as the relay matches deliveries against them (one API call:
    the documents come with their secret values)."""
    with get_client(sync_client=True) as client:
        documents = client.read_block_documents_by_type(
            block_type_slug=GitSource.get_block_type_slug(), include_secrets=True
        )
    return [
        GitSource.model_validate(document.data).to_source(document.name)
        for document in documents
        if document.name
    ]
