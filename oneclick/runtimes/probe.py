"""Asking an app instance over HTTP whether it is ready (``/readyz``) or healthy (``/healthz``).

``wait_ready`` polls until ``/readyz`` answers 200 while the request's ``hold`` is off and
returns None, or returns why it gave up: the instance ended (``ended`` says how), the
request was aborted (e.g. the schema script failed), or the request's ``ready_timeout``
passed (counted from when the hold lifted: a long schema change does not use it up). The
local and docker runtimes share it; Kubernetes asks its own readiness probes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from oneclick import plainhttp

if TYPE_CHECKING:
    from oneclick.runtimes.types import DeployRequest


def wait_ready(
    base_url: str,
    request: DeployRequest,
    ended: Callable[[], str | None],
    poll_interval: float,
) -> str | None:
    import httpx

    timeout = request.ready_timeout
    deadline = time.monotonic() + timeout
    last = "it did not answer"
    with httpx.Client(trust_env=False) as client:
        while True:
            gone = ended()
            if gone:
                return gone
            reason = request.abort() if request.abort else None
            if reason:
                return f"the rollout was abandoned: {reason}"
            held = request.hold() if request.hold else False
            if held:
                deadline = time.monotonic() + timeout
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return f"it was not ready within {timeout:g} s; {last}"
            try:
                response = client.get(f"{base_url}/readyz", timeout=min(2.0, remaining))
            except httpx.HTTPError:
                last = "/readyz did not answer"
            else:
                if response.status_code == 200 and not held:
                    return None
                if response.status_code == 200:
                    last = "/readyz answered 200; waiting for the database scripts"
                last = f"/readyz last answered {response.status_code} {response.text[:300]}"
            time.sleep(min(poll_interval, max(0.0, deadline - time.monotonic())))


def readiness(base_url: str) -> dict[str, object] | None:
    """``/readyz``'s JSON body when it answers 200 within a second; else None."""
    try:
        status, body = plainhttp.request(f"{base_url}/readyz", timeout=1.0, direct=True)
        found = json.loads(body) if status == 200 else None
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def healthy(base_url: str) -> bool:
    """``/healthz`` answers 200 within a second."""
    return plainhttp.answers(f"{base_url}/healthz", timeout=1.0, direct=True)


def ignore_progress(message: str) -> None:
    """The progress callback of a request that gave none."""
    return None
