"""A tiny Starlette app build, images of it, and a local runtime that cleans up after itself.

``/echo/...`` answers any method with what it received (method, path, query, body length,
the body when sent as JSON, ``x-`` headers), with the status ``?status=`` names. The app's
behaviour is chosen per build with marker files: ``never-ready`` (``/readyz`` always answers
503; also when ``ONECLICK_SETTING_NeverReady`` is ``yes``) and
``leak-and-crash`` (prints its secret and database URL, then exits 3: only the test of
scrubbing uses it). Otherwise the app never prints anything from its environment.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from oneclick.images import ImageResult, ImageSpec, LayoutImageBuilder
from oneclick.runtimes import LocalRuntime

APP_MAIN = '''"""A stand-in for a compiled app's server, for runtime tests."""

import json
import os
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

BUILD = Path(__file__).resolve().parents[1]
LIBS = Path(__file__).resolve().parents[2] / "libs"
MANIFEST = json.loads((BUILD / "manifest.json").read_text())

if (BUILD / "leak-and-crash").exists():
    print("secret:", os.environ.get("ONECLICK_SECRET_ApiKey"), flush=True)
    print("database:", os.environ.get("ONECLICK_DATABASE_URL"), flush=True)
    sys.exit(3)


def never_ready():
    told = os.environ.get("ONECLICK_SETTING_NeverReady") == "yes"
    return told or (BUILD / "never-ready").exists()


async def healthz(request):
    return JSONResponse({"status": "up"})


async def readyz(request):
    if never_ready():
        return JSONResponse({"ready": False, "reason": "told never to be ready"}, 503)
    return JSONResponse({"ready": True})


async def info(request):
    return JSONResponse({
        "version": MANIFEST["version"],
        "libraries": sorted(p.name for p in LIBS.iterdir()),
        "secret_present": bool(os.environ.get("ONECLICK_SECRET_ApiKey")),
        "greeting": os.environ.get("ONECLICK_SETTING_Greeting"),
        "image_default": os.environ.get("GREETING_DEFAULT"),
        "inherited_oneclick": sorted(k for k in os.environ if k.startswith("ONECLICK_HOME")),
        "cwd": os.getcwd(),
    })


JSON = "application/json"


async def echo(request):
    body = await request.body()
    headers = {k: v for k, v in request.headers.items() if k.startswith("x-")}
    return JSONResponse({
        "method": request.method,
        "path": request.url.path,
        "query": str(request.url.query),
        "length": len(body),
        "json": json.loads(body) if request.headers.get("content-type") == JSON else None,
        "headers": headers,
        "client": request.client.host if request.client else None,
    }, status_code=int(request.query_params.get("status", "200")),
       headers={"x-echo": "yes", "set-cookie": "a=1"})


app = Starlette(routes=[
    Route("/healthz", healthz), Route("/readyz", readyz), Route("/info", info),
    Route("/echo/{rest:path}", echo, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
])
'''


def write_app_build(path: Path, version: str, markers: tuple[str, ...] = ()) -> Path:
    (path / "server").mkdir(parents=True)
    manifest = {"kind": "app", "app": "expenses", "version": version}
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    (path / "server" / "__init__.py").write_text("")
    (path / "server" / "main.py").write_text(APP_MAIN)
    for marker in markers:
        (path / marker).write_text("")
    return path


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    return tmp_path / "layout"


@pytest.fixture
def publish(tmp_path: Path, layout: Path) -> Callable[..., ImageResult]:
    """Build an image of the test app at ``version`` (with behaviour markers)."""

    def build(version: str, *markers: str, app: str = "expenses") -> ImageResult:
        base = tmp_path / "builds" / app / version
        library = base / "finance-common"
        library.mkdir(parents=True)
        (library / "enums.py").write_text("CATEGORIES = ['Travel']\n")
        spec = ImageSpec(
            repository=app,
            tag=version,
            app_build=write_app_build(base / "app", version, markers),
            library_builds=[("finance-common", library)],
            env={"GREETING_DEFAULT": "hello from the image"},
        )
        return LayoutImageBuilder(layout).build(spec)

    return build


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[LocalRuntime]:
    """A local runtime under ``tmp_path``; every process it started is gone afterwards."""
    local = LocalRuntime(tmp_path / "runtime", poll_interval=0.1, stop_timeout=5.0)
    try:
        yield local
    finally:
        local.stop_all()
        for pid in processes_mentioning(str(tmp_path)):
            os.kill(pid, signal.SIGKILL)


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


@pytest.fixture
def find_processes() -> Callable[[str], list[int]]:
    return processes_mentioning
