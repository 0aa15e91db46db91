"""One HTTP request, on the standard library's ``urllib``: what the quick commands (``oneclick
status``, the probes of a running app, the Prefect server's REST API for blocks) need, where
importing httpx would cost a tenth of a second of CPU.

``request`` answers the status code and body of any response, 4xx and 5xx included, and
raises ``OSError`` when no response came (refused, timed out, reset). Requests to the
Prefect server honour the ``*_proxy`` environment like any client; ``direct=True`` (the probes
of an app on this machine) goes straight to the address.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from http.client import HTTPException
from typing import Any

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def request(
    url: str,
    *,
    payload: Any = None,
    timeout: float = 5.0,
    direct: bool = False,
) -> tuple[int, bytes]:
    """GET ``url``, or POST ``payload`` to it as JSON; the status code and the body."""
    data = None if payload is None else json.dumps(payload).encode()
    prepared = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
    if data is not None:
        prepared.add_header("Content-Type", "application/json")
    opener = _DIRECT if direct else urllib.request.build_opener()
    try:
        with opener.open(prepared, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()
    except urllib.error.URLError as exc:
        raise OSError(f"{url}: {exc.reason}") from exc
    except HTTPException as exc:
        raise OSError(f"{url}: {exc!r}") from exc


def answers(url: str, *, timeout: float = 1.0, direct: bool = False) -> bool:
    """``url`` answers 200 within ``timeout`` seconds."""
    try:
        return request(url, timeout=timeout, direct=direct)[0] == 200
    except OSError:
        return False
