"""What the relay watches: a repository's branch holding an app or a library model."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from oneclick.relay.push import Push
from oneclick.relay.signatures import Provider


class GitSource(BaseModel):
    """A push to ``branch`` of ``repository`` publishes the model at ``path`` in it."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="the source's name (an event resource id names it)")
    provider: Provider
    repository: str = Field(description="owner/name as the provider spells it")
    branch: str = "main"
    kind: Literal["app", "library"] = "app"
    path: str = Field(default=".", description="the model's directory inside the repository")
    stage: str = Field(default="development", description="where an app is published")
    clone_url: str | None = Field(
        default=None, description="where the worker clones from; None: the URL the push names"
    )
    secret: SecretStr = Field(description="the webhook's secret or signing token")

    def watches(self, provider: Provider, repository: str) -> bool:
        return self.provider == provider and self.repository.lower() == repository.lower()

    def event(self, push: Push, delivery: str) -> dict[str, object]:
        """The Prefect event a matching push becomes (``POST /api/events`` takes a list)."""
        return {
            "event": f"oneclick.git.push.{self.kind}",
            "resource": {
                "prefect.resource.id": f"oneclick.git-source.{self.name}",
                "prefect.resource.name": self.name,
                "oneclick.kind": self.kind,
            },
            "payload": {
                "repository": self.clone_url or push.clone_url,
                "branch": push.branch,
                "commit": push.commit,
                "path": self.path,
                "stage": self.stage,
                "provider": push.provider,
                "delivery": delivery,
            },
        }
