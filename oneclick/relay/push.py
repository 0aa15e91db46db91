"""A push, from any provider's payload: which repository, which branch, which commit."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from oneclick.relay.signatures import Provider, Refused

NO_COMMIT = "0" * 40


class Push(BaseModel):
    model_config = ConfigDict(frozen=True)

    provider: Provider
    repository: str  # "owner/name" as the provider spells it
    clone_url: str
    ref: str
    commit: str

    @property
    def branch(self) -> str | None:
        """The branch pushed to; None for a tag or another kind of ref."""
        return self.ref.removeprefix("refs/heads/") if self.ref.startswith("refs/heads/") else None

    @property
    def deleted(self) -> bool:
        return self.commit.strip("0") == ""


def repository_of(provider: Provider, payload: Any) -> tuple[str, str]:
    """The repository a delivery is about: its ``owner/name`` and clone URL."""
    try:
        if provider == "gitlab":
            project = payload["project"]
            return str(project["path_with_namespace"]), str(project.get("git_http_url", ""))
        repository = payload["repository"]
        return str(repository["full_name"]), str(repository.get("clone_url", ""))
    except (KeyError, TypeError, AttributeError):
        raise Refused(400, "the payload names no repository") from None


def parse_push(provider: Provider, payload: Any) -> Push:
    """The push in ``payload`` (GitHub and Gitea share a shape; GitLab names it a project)."""
    name, clone_url = repository_of(provider, payload)
    try:
        commit = payload.get("checkout_sha") if provider == "gitlab" else None
        return Push(
            provider=provider,
            repository=name,
            clone_url=clone_url,
            ref=payload["ref"],
            commit=commit or payload.get("after") or NO_COMMIT,
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise Refused(400, f"not a {provider} push payload: {exc!r} is missing") from None
