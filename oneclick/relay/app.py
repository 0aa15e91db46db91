"""The relay's HTTP face: ``POST /hooks/{github|gitlab|gitea}`` and ``GET /healthz``.

Anyone who can reach the relay's port can post to it, so nothing is trusted before the
signature, and an unauthenticated caller costs little and learns nothing:

1. The headers must be able to carry a signature (``check_headers``), else 401. No body is
   read, no API is called.
2. The body is read up to ``MAX_BODY`` bytes (413 beyond). At most ``MAX_WORKING``
   deliveries go further at once; the others wait their turn (503 after ``WAIT`` seconds).
3. The git sources are read from the Prefect API: one read per delivery (503 while the API
   does not answer). The body is checked against the secret of *every* source of that
   provider, each in constant time. The secret cannot be picked by the repository the body
   names, since the body is not trusted yet; a relay-wide secret per provider would save the
   loop but make one secret open every repository. With no match the answer is 401, the
   same whatever repository the body names: a watched and an unwatched one look alike.
4. Only now is the body parsed (``load_payload``: nesting capped, 400 if not JSON), and
   only sources that watch the repository it names and whose secret signed it count (else
   the same 401). A ping or another event is answered 202 and ignored.
5. The push's commits must be full commit ids (400 otherwise); a tag, a deletion or another
   branch is answered 202 and ignored.
6. Replays: a push is taken once by its signed content (provider, repository, ref, before,
   after), whatever delivery id it carries (409 for a replay). A push that would publish
   nothing new (``already_published``: a commit the stage already got from the source, or
   an ancestor of the last one) is answered 200 with the reason, and no run starts.
7. One event per remaining source is posted to Prefect (202 with the event ids; 503, and
   the push forgotten so a redelivery is taken, if Prefect does not take them).

Refusals are logged as one line with their reason, the first of each kind at once and then
at most one a minute counting the others (``oneclick.relay.refusals``): a flood of bad
requests does not flood the log. A secret never reaches a log line or an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from oneclick.errors import OneclickError
from oneclick.home import Home
from oneclick.relay.deliveries import Deliveries
from oneclick.relay.published import already_published
from oneclick.relay.push import Push, load_payload, parse_push, repository_of
from oneclick.relay.refusals import Refusals
from oneclick.relay.signatures import (
    NOT_SIGNED,
    PROVIDERS,
    Provider,
    Refused,
    check_headers,
    delivery_id,
    event_name,
    signed_with,
)
from oneclick.relay.sources import GitSource

MAX_BODY = 1024 * 1024
MAX_WORKING = 8  # deliveries past the cheap checks at once
WAIT = 30.0  # seconds a delivery waits for its turn
logger = logging.getLogger("oneclick.relay")

Emit = Callable[[list[dict[str, Any]]], None]


def relay_app(
    sources: Callable[[], list[GitSource]],
    deliveries: Deliveries,
    emit: Emit,
    *,
    mirrors: Path | None = None,
) -> Starlette:
    """``mirrors``: where the relay keeps its mirrors of pushed repositories (default: under
    the home's ``sources``)."""
    mirror_root = mirrors or Home.from_env().sources / "mirrors"
    working = asyncio.Semaphore(MAX_WORKING)
    refusals = Refusals(logger)

    def handle(
        provider: Provider, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        authentic = _authenticate(provider, headers, body, _read_sources(sources))
        try:
            return _handle(provider, headers, body, authentic, deliveries, emit, mirror_root)
        except OneclickError as exc:  # the catalog's database is busy or cannot be opened
            raise Refused(
                503, f"the relay cannot record the push ({exc}); redeliver later"
            ) from exc

    async def hook(request: Request) -> JSONResponse:
        provider = request.path_params["provider"]
        if provider not in PROVIDERS:
            return _answer(404, error=f"unknown provider {provider!r}: use {', '.join(PROVIDERS)}")
        headers = dict(request.headers)
        try:
            check_headers(provider, headers, time.time())
            body = await _read(request)
            async with asyncio.timeout(WAIT):
                await working.acquire()
            try:
                status, result = await run_in_threadpool(handle, provider, headers, body)
            finally:
                working.release()
        except TimeoutError:
            return _answer(503, error="the relay is busy: redeliver later")
        except Refused as refused:
            refusals.note(provider, refused.reason)
            return _answer(refused.status, error=refused.reason)
        logger.info("%s delivery: %s", provider, result)
        return _answer(status, **result)

    async def healthz(request: Request) -> JSONResponse:
        return _answer(200, status="ok")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        refusals.flush()

    return Starlette(
        routes=[
            Route("/hooks/{provider}", hook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _answer(code: int, **content: Any) -> JSONResponse:
    return JSONResponse(content, status_code=code)


async def _read(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise Refused(413, f"the body is over {MAX_BODY} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise Refused(413, f"the body is over {MAX_BODY} bytes")
    return bytes(body)


def _read_sources(sources: Callable[[], list[GitSource]]) -> list[GitSource]:
    try:
        return sources()
    except Exception as exc:
        said = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise Refused(503, f"the Prefect API did not answer ({said}); redeliver later") from exc


def _authenticate(
    provider: Provider, headers: dict[str, str], body: bytes, sources: list[GitSource]
) -> list[GitSource]:
    """The sources of ``provider`` whose secret signed the delivery; 401 if none."""
    candidates = [s for s in sources if s.provider == provider]
    secrets = [s.secret.get_secret_value() for s in candidates]
    signed = signed_with(provider, headers, body, secrets)
    authentic = [source for source, ok in zip(candidates, signed, strict=True) if ok]
    if not authentic:
        raise Refused(401, NOT_SIGNED)
    return authentic


def _handle(
    provider: Provider,
    headers: dict[str, str],
    body: bytes,
    authentic: list[GitSource],
    deliveries: Deliveries,
    emit: Emit,
    mirrors: Path,
) -> tuple[int, dict[str, Any]]:
    payload = load_payload(body)
    repository, _ = repository_of(provider, payload)
    authentic = [s for s in authentic if s.watches(provider, repository)]
    if not authentic:
        raise Refused(401, NOT_SIGNED)
    event = event_name(provider, headers)
    if event != "push":
        return 202, {"ignored": f"{event} event"}
    push = parse_push(provider, payload)
    if push.branch is None or push.deleted:
        return 202, {"ignored": f"{push.ref} is not a branch with a commit"}
    targets = [s for s in authentic if s.branch == push.branch]
    if not targets:
        return 202, {"ignored": f"no source watches branch {push.branch!r}"}
    key = push.content_key()
    if not deliveries.claim(provider, key):
        raise Refused(409, f"this push of {push.commit[:12]} was already received: a replay")
    delivery = delivery_id(provider, headers) or key
    try:
        return _publish(push, targets, delivery, deliveries, emit, mirrors)
    except Exception:
        deliveries.release(provider, key)
        raise


def _publish(
    push: Push,
    targets: list[GitSource],
    delivery: str,
    deliveries: Deliveries,
    emit: Emit,
    mirrors: Path,
) -> tuple[int, dict[str, Any]]:
    reasons = {s.name: already_published(s, push, deliveries.catalog, mirrors) for s in targets}
    skipped = {name: reason for name, reason in reasons.items() if reason}
    targets = [s for s in targets if s.name not in skipped]
    if not targets:
        return 200, {"commit": push.commit, "already_published": skipped}
    now = datetime.now(UTC).isoformat()
    events = [
        {**s.event(push, delivery), "id": str(uuid.uuid4()), "occurred": now} for s in targets
    ]
    try:
        emit(events)
    except Exception as exc:
        raise Refused(503, f"Prefect did not take the event ({exc}); redeliver later") from exc
    return 202, {
        "delivery": delivery,
        "commit": push.commit,
        "events": [e["id"] for e in events],
        "sources": [s.name for s in targets],
        **({"already_published": skipped} if skipped else {}),
    }


def prefect_emitter(api_url: str) -> Emit:
    """Post events to the Prefect server's ``/events`` endpoint (what deployment triggers
    listen to)."""

    def emit(events: list[dict[str, Any]]) -> None:
        response = httpx.post(f"{api_url.rstrip('/')}/events", json=events, timeout=10)
        response.raise_for_status()

    return emit
