"""Who may call the relay: each provider's way of proving a delivery came from it.

- GitHub: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``.
- Gitea (and Forgejo): ``X-Gitea-Signature`` / ``X-Forgejo-Signature``: the hex HMAC-SHA256
  of the body.
- GitLab: with a signing token, ``webhook-signature: v1,<base64 HMAC-SHA256 of
  "<webhook-id>.<webhook-timestamp>.<body>">`` and a timestamp no older than ``TOLERANCE``
  (Standard Webhooks); otherwise the older ``X-Gitlab-Token``, the secret itself.

Every comparison is constant-time. A refusal carries the HTTP status to answer and a reason
that names the header, never the secret or the expected value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Literal

Provider = Literal["github", "gitlab", "gitea"]
PROVIDERS: tuple[Provider, ...] = ("github", "gitlab", "gitea")
TOLERANCE = 300  # seconds a signed GitLab delivery stays acceptable


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


def verify(
    provider: Provider,
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    now: float | None = None,
) -> None:
    """Return if the delivery is signed with ``secret``; raise ``Refused`` (401) if not."""
    if provider == "github":
        given = headers.get("x-hub-signature-256", "")
        if not given.startswith("sha256="):
            raise Refused(401, "no X-Hub-Signature-256 header: set the webhook's secret")
        _same(given.removeprefix("sha256="), sign(secret, body), "X-Hub-Signature-256")
    elif provider == "gitea":
        name = "x-gitea-signature" if "x-gitea-signature" in headers else "x-forgejo-signature"
        if name not in headers:
            raise Refused(401, "no X-Gitea-Signature header: set the webhook's secret")
        _same(headers[name], sign(secret, body), name)
    elif "webhook-signature" in headers:
        _gitlab_signed(headers, body, secret, time.time() if now is None else now)
    elif "x-gitlab-token" in headers:
        _same(headers["x-gitlab-token"], secret, "X-Gitlab-Token")
    else:
        raise Refused(401, "no webhook-signature or X-Gitlab-Token header: set a signing token")


def _gitlab_signed(headers: Mapping[str, str], body: bytes, secret: str, now: float) -> None:
    webhook_id = headers.get("webhook-id", "")
    try:
        timestamp = int(headers.get("webhook-timestamp", ""))
    except ValueError:
        raise Refused(401, "webhook-timestamp is missing or not a number") from None
    if abs(now - timestamp) > TOLERANCE:
        raise Refused(401, f"webhook-timestamp is more than {TOLERANCE} s away: a replay?")
    expected = sign_gitlab(secret, webhook_id, timestamp, body)
    # the header may list several space-separated signatures (a rotated token)
    if not any(hmac.compare_digest(s, expected) for s in headers["webhook-signature"].split()):
        raise Refused(401, "webhook-signature does not match the body: check the signing token")


def _same(given: str, expected: str, header: str) -> None:
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise Refused(401, f"{header} does not match: check the webhook's secret")


def delivery_id(provider: Provider, headers: Mapping[str, str]) -> str:
    """The provider's unique id of this delivery (what a replay repeats)."""
    names = {
        "github": ("x-github-delivery",),
        "gitea": ("x-gitea-delivery", "x-forgejo-delivery"),
        "gitlab": ("webhook-id", "idempotency-key", "x-gitlab-event-uuid"),
    }[provider]
    for name in names:
        if headers.get(name):
            return headers[name]
    raise Refused(400, f"no delivery id header ({', '.join(names)}): cannot refuse replays")


def event_name(provider: Provider, headers: Mapping[str, str]) -> str:
    """``push`` for a push; the provider's own name of anything else."""
    raw = {
        "github": headers.get("x-github-event", ""),
        "gitea": headers.get("x-gitea-event", headers.get("x-forgejo-event", "")),
        "gitlab": headers.get("x-gitlab-event", ""),
    }[provider]
    return "push" if raw.lower() in ("push", "push hook") else raw or "unknown"
