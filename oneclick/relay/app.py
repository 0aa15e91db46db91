"""The relay's HTTP face: ``POST /hooks/{github|gitlab|gitea}`` and ``GET /healthz``.

A delivery is read up to ``MAX_BODY`` bytes (413 beyond), matched to the git sources that
watch its repository (404 if none), verified with their secret (401), checked against
replays by its delivery id (409), and, if it is a push to a watched branch, posted to
Prefect as one event per source (202, with the event ids). Anything else that is
authentic (a ping, a tag, a branch deletion, another branch) is answered 202 and ignored.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from oneclick.relay.deliveries import Deliveries
from oneclick.relay.push import parse_push, repository_of
from oneclick.relay.signatures import PROVIDERS, Provider, Refused, delivery_id, event_name
from oneclick.relay.signatures import verify as verify_signature
from oneclick.relay.sources import GitSource

MAX_BODY = 1024 * 1024
logger = logging.getLogger("oneclick.relay")

Emit = Callable[[list[dict[str, Any]]], None]


def relay_app(
    sources: Callable[[], list[GitSource]], deliveries: Deliveries, emit: Emit
) -> Starlette:
    async def hook(request: Request) -> JSONResponse:
        provider = request.path_params["provider"]
        if provider not in PROVIDERS:
            return _answer(404, error=f"unknown provider {provider!r}: use {', '.join(PROVIDERS)}")
        try:
            body = await _read(request)
            headers = dict(request.headers)
            result = await run_in_threadpool(
                lambda: _handle(provider, headers, body, sources(), deliveries, emit)
            )
        except Refused as refused:
            logger.warning("refused a %s delivery: %s", provider, refused.reason)
            return _answer(refused.status, error=refused.reason)
        logger.info("%s delivery: %s", provider, result)
        return _answer(202, **result)

    async def healthz(request: Request) -> JSONResponse:
        return _answer(200, status="ok")

    return Starlette(
        routes=[
            Route("/hooks/{provider}", hook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
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


def _handle(
    provider: Provider,
    headers: dict[str, str],
    body: bytes,
    sources: list[GitSource],
    deliveries: Deliveries,
    emit: Emit,
) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError:
        raise Refused(400, "the body is not JSON: set the webhook's content type to JSON") from None
    repository, _ = repository_of(provider, payload)
    watching = [s for s in sources if s.watches(provider, repository)]
    if not watching:
        raise Refused(404, f"no git source watches {provider} repository {repository!r}")
    authentic, refusal = [], None
    for source in watching:
        try:
            verify_signature(provider, headers, body, source.secret.get_secret_value())
        except Refused as refused:
            refusal = refusal or refused
        else:
            authentic.append(source)
    if refusal and not authentic:
        raise refusal
    delivery = delivery_id(provider, headers)
    if not deliveries.claim(provider, delivery):
        raise Refused(409, f"delivery {delivery} was already received: a replay is ignored")
    event = event_name(provider, headers)
    if event != "push":
        return {"ignored": f"{event} event", "delivery": delivery}
    push = parse_push(provider, payload)
    if push.branch is None or push.deleted:
        return {"ignored": f"{push.ref} is not a branch with a commit", "delivery": delivery}
    targets = [s for s in authentic if s.branch == push.branch]
    if not targets:
        return {"ignored": f"no source watches branch {push.branch!r}", "delivery": delivery}
    now = datetime.now(UTC).isoformat()
    events = [
        {**s.event(push, delivery), "id": str(uuid.uuid4()), "occurred": now} for s in targets
    ]
    try:
        emit(events)
    except Exception as exc:
        deliveries.release(provider, delivery)
        raise Refused(503, f"Prefect did not take the event ({exc}); redeliver later") from exc
    return {
        "delivery": delivery,
        "commit": push.commit,
        "events": [e["id"] for e in events],
        "sources": [s.name for s in targets],
    }


def prefect_emitter(api_url: str) -> Emit:
    """Post events to the Prefect server's ``/events`` endpoint (what deployment triggers
    listen to)."""

    def emit(events: list[dict[str, Any]]) -> None:
        response = httpx.post(f"{api_url.rstrip('/')}/events", json=events, timeout=10)
        response.raise_for_status()

    return emit
