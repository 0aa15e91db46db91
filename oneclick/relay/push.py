"""A push, from any provider's payload: which repository, which branch, which commits.

``load_payload`` parses a body only after its signature was checked, and refuses nesting
deeper than ``MAX_DEPTH`` before the parser sees it (a body of a million ``[`` is refused
with a 400, never a RecursionError). Commit ids must be 40 or 64 hexadecimal digits, all of
the value (``re.fullmatch``: no trailing newline). ``content_key`` names a push by what is
signed (provider, repository, ref, before, after): a replay repeats it, whatever delivery id
it claims.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict

from oneclick.relay.signatures import Provider, Refused

NO_COMMIT = "0" * 40
MAX_DEPTH = 32
COMMIT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_STRUCTURE = re.compile(rb'["\\\[\]{}]')


class Push(BaseModel):
    model_config = ConfigDict(frozen=True)

    provider: Provider
    repository: str  # "owner/name" as the provider spells it
    clone_url: str
    ref: str
    commit: str
    before: str = NO_COMMIT

    @property
    def branch(self) -> str | None:
        """The branch pushed to; None for a tag or another kind of ref."""
        return self.ref.removeprefix("refs/heads/") if self.ref.startswith("refs/heads/") else None

    @property
    def deleted(self) -> bool:
        return self.commit.strip("0") == ""

    def content_key(self) -> str:
        """What names this push, from signed content only."""
        fields = [self.provider, self.repository.lower(), self.ref, self.before, self.commit]
        return hashlib.sha256("\n".join(fields).encode()).hexdigest()


def load_payload(body: bytes) -> Any:
    """The JSON of an authenticated body; refused (400) if it is not JSON or nests too deep."""
    if nesting_depth(body) > MAX_DEPTH:
        raise Refused(400, f"the body nests deeper than {MAX_DEPTH} levels: not a push payload")
    try:
        return json.loads(body)
    except ValueError:
        raise Refused(400, "the body is not JSON: set the webhook's content type to JSON") from None


def nesting_depth(body: bytes) -> int:
    """How deep arrays and objects nest in ``body`` (strings skipped), in one linear pass;
    stops counting once past ``MAX_DEPTH``."""
    depth = deepest = 0
    in_string = False
    escaped_at = -1
    for match in _STRUCTURE.finditer(body):
        at, char = match.start(), match.group()
        if at == escaped_at:
            continue
        if in_string:
            if char == b"\\":
                escaped_at = at + 1
            elif char == b'"':
                in_string = False
        elif char == b'"':
            in_string = True
        elif char in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                break
        elif char in (b"]", b"}"):
            depth -= 1
    return deepest


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
        checkout_sha = payload.get("checkout_sha") if provider == "gitlab" else None
        ref = payload["ref"]
        commit = checkout_sha or payload.get("after") or NO_COMMIT
        before = payload.get("before") or NO_COMMIT
    except (KeyError, TypeError, AttributeError) as exc:
        raise Refused(400, f"not a {provider} push payload: {exc!r} is missing") from None
    for field, value in (("ref", ref), ("after", commit), ("before", before)):
        if not isinstance(value, str):
            raise Refused(400, f"the push's {field} is not a string")
    for field, value in (("after", commit), ("before", before)):
        if not COMMIT_ID.fullmatch(value):
            raise Refused(
                400, f"the push's {field} {value[:80]!r} is not a commit id (40 or 64 hex digits)"
            )
    return Push(
        provider=provider,
        repository=name,
        clone_url=clone_url,
        ref=ref,
        commit=commit,
        before=before,
    )
