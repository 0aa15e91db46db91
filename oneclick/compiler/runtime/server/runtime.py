"""The HTTP side of a compiled app: REST API, health, readiness and the web client.

Routes:
- ``GET /healthz``: 200 whenever the process is up.
- ``GET /readyz``: 200 only if every setting has a valid value, the database answers and
  its schema satisfies this build; else 503 with a JSON ``reason``. Readiness is
  compatibility, not equality, so the previous release stays ready while the next one's
  schema scripts only add and widen: the schema satisfies the build when its
  ``oneclick_schema`` row holds the manifest's ``schema_fingerprint`` (``"schema_fit":
  "exact"``, answered without reflection), or, when the row holds another fingerprint, when
  every table and column of ``models.TABLES`` exists with a type that holds every value this
  build writes (``"schema_fit": "compatible"``; see ``schema_fit``, judged once per recorded
  fingerprint by ``Store.misfits``). No row at all (the schema was never applied) is never
  ready. The 503's ``reason`` names the first few missing or too narrow tables and columns.
- ``GET /api/_meta``: the app's spec for the client: entities, screens, setting values
  (secrets never), and the static entities' records.
- ``GET|POST /api/<entity>`` (``?limit=1..500&offset=0..``) and
  ``GET|PUT|PATCH|DELETE /api/<entity>/<id>``. JSON field names are the model's attribute
  names plus ``Id``. Errors are JSON ``{"error": message, "attribute": name or null}``:
  400 invalid input (plus ``problems``: every invalid attribute, see ``values.Invalid``), 404
  no such record, 409 a reference would break (records named by their label), 413 body too
  large.
- ``/`` (the index page), ``/favicon.ico`` (the app's icon, also ``/static/favicon.svg``),
  ``/static/...`` (the client) and ``/libs/<name>/enums.js`` and ``/libs/<name>/styles.css``
  (each bundled library's assets).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import config
from .schema_fit import summarize
from .spec import SPEC
from .store import Conflict, NotFound, Store, Unavailable
from .values import Invalid, json_value, read_record, write_record

log = logging.getLogger("server")

MAX_BODY = 1_000_000
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
LIBRARY_ASSETS = ("enums.js", "styles.css")
FAVICON = "favicon.svg"
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; object-src 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


def error(status: int, message: str, attribute: str | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "attribute": attribute}, status_code=status)


class Api:
    """The endpoints, bound to the app's spec, its store and its libraries."""

    def __init__(self, store: Store, statics: dict[str, dict[str, str]]) -> None:
        self.store = store
        self.statics = statics
        self.manifest = config.read_manifest()
        self.settings, self.setting_problems = config.read_settings(SPEC, os.environ)
        self.by_path: dict[str, dict[str, Any]] = {e["path"]: e for e in SPEC["entities"]}

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        if self.setting_problems:
            return _not_ready("; ".join(self.setting_problems))
        try:
            found = await run_in_threadpool(self.store.fingerprint)
            if found is None:
                return _not_ready(
                    "the database has no schema fingerprint: the schema was never applied"
                )
            if found == self.manifest["schema_fingerprint"]:
                return _ready(found, "exact")
            problems = await run_in_threadpool(self.store.misfits, found)
        except Unavailable as exc:
            return _not_ready(str(exc))
        except Exception as exc:
            log.warning("readiness: the database did not answer (%s)", type(exc).__name__)
            return _not_ready(f"the database did not answer ({type(exc).__name__})")
        if problems:
            return _not_ready(f"the database schema does not fit this build: {summarize(problems)}")
        return _ready(found, "compatible")

    async def meta(self, request: Request) -> Response:
        statics: dict[str, dict[str, list[dict[str, str]]]] = {}
        for qualified, labels in sorted(self.statics.items()):
            library, _, entity = qualified.partition(".")
            records = [{"key": key, "label": label} for key, label in labels.items()]
            statics.setdefault(library, {})[entity] = records
        return JSONResponse(
            {
                "app": SPEC["app"],
                "title": SPEC["title"],
                "version": SPEC["version"],
                "entities": SPEC["entities"],
                "screens": SPEC["screens"],
                "settings": {name: json_value(v) for name, v in self.settings.items()},
                "static_entities": statics,
                "libraries": SPEC["libraries"],
            }
        )

    def _entity(self, request: Request) -> dict[str, Any]:
        entity = self.by_path.get(request.path_params["path"])
        if entity is None:
            raise HTTPException(404, f"no entity at {request.url.path}")
        return entity

    async def collection(self, request: Request) -> Response:
        entity = self._entity(request)
        if request.method == "POST":
            return await self._write(request, entity, None)
        limit = _bounded(request, "limit", DEFAULT_LIMIT, 1)
        offset = _bounded(request, "offset", 0, 0)
        if isinstance(limit, Response):
            return limit
        if isinstance(offset, Response):
            return offset
        records, total = await run_in_threadpool(
            self.store.list, entity["name"], min(limit, MAX_LIMIT), offset
        )
        items = [write_record(entity, r) for r in records]
        body = {"items": items, "total": total, "limit": min(limit, MAX_LIMIT), "offset": offset}
        return JSONResponse(body)

    async def item(self, request: Request) -> Response:
        entity = self._entity(request)
        raw_id = request.path_params["id"]
        if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 10:
            return error(404, f"no {entity['name']} with Id {raw_id[:20]}")
        record_id = int(raw_id)
        if request.method in ("PUT", "PATCH"):
            return await self._write(request, entity, record_id)
        if request.method == "DELETE":
            await run_in_threadpool(self.store.delete, entity["name"], record_id)
            return Response(status_code=204)
        record = await run_in_threadpool(self.store.get, entity["name"], record_id)
        return JSONResponse(write_record(entity, record))

    async def _write(
        self, request: Request, entity: dict[str, Any], record_id: int | None
    ) -> Response:
        payload = await _json_body(request)
        if isinstance(payload, Response):
            return payload
        if (
            isinstance(payload, dict)
            and "Id" in payload
            and (record_id is None or payload["Id"] != record_id)
        ):
            raise Invalid("Id", "is assigned by the server and cannot change; leave it out")
        partial = request.method == "PATCH"
        values = read_record(
            entity, payload, self.statics, creating=record_id is None, partial=partial
        )
        if record_id is None:
            record = await run_in_threadpool(self.store.create, entity["name"], values)
            location = f"/api/{entity['path']}/{record['Id']}"
            return JSONResponse(
                write_record(entity, record), status_code=201, headers={"Location": location}
            )
        record = await run_in_threadpool(self.store.update, entity["name"], record_id, values)
        return JSONResponse(write_record(entity, record))

    async def index(self, request: Request) -> Response:
        return FileResponse(config.STATIC_DIR / "index.html")

    async def favicon(self, request: Request) -> Response:
        return FileResponse(config.STATIC_DIR / FAVICON, media_type="image/svg+xml")

    async def library_asset(self, request: Request) -> Response:
        name, file = request.path_params["name"], request.path_params["file"]
        known = {library["name"] for library in SPEC["libraries"]}
        path = config.LIBS_DIR / name / file
        if name not in known or file not in LIBRARY_ASSETS or not path.is_file():
            return error(404, f"no library asset {name[:60]}/{file[:60]}")
        return FileResponse(path)


def _ready(fingerprint: str, fit: str) -> JSONResponse:
    return JSONResponse({"ready": True, "schema_fingerprint": fingerprint, "schema_fit": fit})


def _not_ready(reason: str) -> JSONResponse:
    return JSONResponse({"ready": False, "reason": reason}, status_code=503)


def _bounded(request: Request, name: str, default: int, low: int) -> int | Response:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or int(raw) < low:
        return error(400, f"{name}: expected a whole number of at least {low}, found {raw[:20]!r}")
    return int(raw)


async def _json_body(request: Request) -> Any:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return error(413, f"expected a request body of at most {MAX_BODY} bytes")
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_refuse_constant)
    except ValueError:
        return error(400, "expected a JSON object as the request body")


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def _handlers() -> dict[Any, Callable[..., Any]]:
    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Invalid)
        body = {"error": exc.message, "attribute": exc.attribute, "problems": exc.problems}
        return JSONResponse(body, status_code=400)

    async def not_found(request: Request, exc: Exception) -> Response:
        return error(404, str(exc))

    async def conflict(request: Request, exc: Exception) -> Response:
        return error(409, str(exc))

    async def unavailable(request: Request, exc: Exception) -> Response:
        return error(503, f"the database is not available: {exc}")

    async def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error(exc.status_code, str(exc.detail), None)

    return {
        Invalid: invalid,
        NotFound: not_found,
        Conflict: conflict,
        Unavailable: unavailable,
        HTTPException: http,
    }


class SecurityHeaders:
    """Adds headers that keep the client's pages to their own scripts and content types."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app() -> Starlette:
    """The ASGI app: reads the manifest, libraries, settings and secrets once, at start."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    statics = config.load_static_entities(SPEC)
    store = Store(os.environ.get(config.DATABASE_URL_VARIABLE), SPEC["entities"])
    api = Api(store, statics)
    secrets = config.read_secrets(SPEC, os.environ)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        log.info("app %s %s started (%r)", SPEC["app"], SPEC["version"], secrets)
        yield
        store.dispose()

    routes = [
        Route("/", api.index, methods=["GET"]),
        Route("/favicon.ico", api.favicon, methods=["GET"]),
        Route("/healthz", api.healthz, methods=["GET"]),
        Route("/readyz", api.readyz, methods=["GET"]),
        Route("/api/_meta", api.meta, methods=["GET"]),
        Route("/api/{path}", api.collection, methods=["GET", "POST"]),
        Route("/api/{path}/{id}", api.item, methods=["GET", "PUT", "PATCH", "DELETE"]),
        Route("/libs/{name}/{file}", api.library_asset, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=config.STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers=_handlers(), lifespan=lifespan)
    app.state.secrets = secrets
    app.state.settings = api.settings
    app.add_middleware(SecurityHeaders)
    return app
