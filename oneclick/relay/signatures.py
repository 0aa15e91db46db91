"""Who may call the relay: each provider's way of proving a delivery came from it.

- GitHub: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``.
- Gitea (and Forgejo): ``X-Gitea-Signature`` / ``X-Forgejo-Signature``: the hex HMAC-SHA256
  of the body.
- GitLab: with a signing token, ``webhook-signature: v1,<base64 HMAC-SHA256 of
  "<webhook-id>.<webhook-timestamp>.<body>">`` and a timestamp no older than ``TOLERANCE``
  (Standard Webhooks); otherwise the older ``X-Gitlab-Token``, the secret itself.

``check_headers`` refuses what cannot be signed from the headers alone; ``signed_with`` then
checks the body against every candidate secret, each comparison constant-time. A refusal
carries the HTTP status to answer and a reason that names the header, never the secret or
the expected value, and never depends on the body or on which repositories are watched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Mapping, Sequence
from typing import Literal

Provider = Literal["github", "gitlab", "gitea"]
PROVIDERS: tuple[Provider, ...] = ("github", "gitlab", "gitea")
TOLERANCE = 300  # seconds a signed GitLab delivery stays acceptable
HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")
MAX_TOKEN = 1024
MAX_SIGNATURES = 8
NOT_SIGNED = (
    "the delivery is not signed with the secret of a git source that watches its "
    "repository: check the webhook's secret"
)


class Refused(Exception):
    """A delivery the relay will not act on: ``status`` is the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def sign(secret: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``body`` that GitHub and Gitea send (for hooks and tests)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_gitlab(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value GitLab sends with a signing token."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def check_headers(provider: Provider, headers: Mapping[str, str], now: float) -> None:
    """Refuse (401) a delivery whose headers cannot carry a valid signature, before anything
    else is read: the answer depends on the headers alone, never on the body or the sources."""
    if provider == "github":
        given = headers.get("x-hub-signature-256", "")
        if not HEX_SIGNATURE.fullmatch(given.removeprefix("sha256=")) or given[:7] != "sha256=":
            raise Refused(401, "no valid X-Hub-Signature-256 header: set the webhook's secret")
    elif provider == "gitea":
        if not HEX_SIGNATURE.fullmatch(_gitea_signature(headers)):
            raise Refused(401, "no valid X-Gitea-Signature header: set the webhook's secret")
    elif "webhook-signature" in headers:
        try:
            timestamp = int(headers.get("webhook-timestamp", ""))
        except ValueError:
            raise Refused(401, "webhook-timestamp is missing or not a number") from None
        if abs(now - timestamp) > TOLERANCE:
            raise Refused(401, f"webhook-timestamp is more than {TOLERANCE} s away: a replay?")
        if not headers.get("webhook-id"):
            raise Refused(401, "no webhook-id header: it is part of what is signed")
    elif not 0 < len(headers.get("x-gitlab-token", "")) <= MAX_TOKEN:
        raise Refused(401, "no webhook-signature or X-Gitlab-Token header: set a signing token")


def signed_with(
    provider: Provider, headers: Mapping[str, str], body: bytes, secrets: Sequence[str]
) -> list[bool]:
    """For each secret, whether the delivery is signed with it. Every secret is checked, each
    in constant time, so the time taken tells nothing about which one matched or how far."""
    if provider == "github":
        given = headers.get("x-hub-signature-256", "").removeprefix("sha256=").encode()
        return [hmac.compare_digest(given, sign(s, body).encode()) for s in secrets]
    if provider == "gitea":
        given = _gitea_signature(headers).encode()
        return [hmac.compare_digest(given, sign(s, body).encode()) for s in secrets]
    if "webhook-signature" in headers:
        webhook_id, timestamp = headers["webhook-id"], int(headers["webhook-timestamp"])
        # the header may list several space-separated signatures (a rotated token)
        listed = headers["webhook-signature"].split()[:MAX_SIGNATURES]
        return [_any_equal(listed, sign_gitlab(s, webhook_id, timestamp, body)) for s in secrets]
    token = headers.get("x-gitlab-token", "").encode()
    return [hmac.compare_digest(token, s.encode()) for s in secrets]


def verify(
    provider: Provider,
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    now: float | None = None,
) -> None:
    """Return if the delivery is signed with ``secret``; raise ``Refused`` (401) if not."""
    check_headers(provider, headers, time.time() if now is None else now)
    if not signed_with(provider, headers, body, [secret])[0]:
        raise Refused(401, NOT_SIGNED)


def _gitea_signature(headers: Mapping[str, str]) -> str:
    return headers.get("x-gitea-signature") or headers.get("x-forgejo-signature") or ""


def _any_equal(given: Sequence[str], expected: str) -> bool:
    found = False
    for candidate in given:
        found |= hmac.compare_digest(candidate.encode(), expected.encode())
    return found


def delivery_id(provider: Provider, headers: Mapping[str, str]) -> str | None:
    """The provider's id of this delivery, if it sent one. It is not signed: it is passed on
    to name the delivery, never trusted to tell a replay (``push.content_key`` does)."""
    names = {
        "github": ("x-github-delivery",),
        "gitea": ("x-gitea-delivery", "x-forgejo-delivery"),
        "gitlab": ("webhook-id", "idempotency-key", "x-gitlab-event-uuid"),
    }[provider]
    for name in names:
        if headers.get(name):
            return headers[name][:200]
    return None


def event_name(provider: Provider, headers: Mapping[str, str]) -> str:
    """``push`` for a push; the provider's own name of anything else."""
    raw = {
        "github": headers.get("x-github-event", ""),
        "gitea": headers.get("x-gitea-event", headers.get("x-forgejo-event", "")),
        "gitlab": headers.get("x-gitlab-event", ""),
    }[provider]
    return "push" if raw.lower() in ("push", "push hook") else raw or "unknown"
