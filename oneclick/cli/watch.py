"""While a flow runs in the CLI's process, a watch on the Prefect server: when it stops
answering for ``GRACE`` seconds, the command ends at once saying so and what to do, instead
of waiting minutes in the client's retries. The stage keeps what it ran (a run cut short is
like a killed one: the next run of that app and stage takes over what this one left)."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

INTERVAL = 1.0
GRACE = 6.0


def _reachable(api_url: str) -> bool:
    """False only when nothing accepts the connection: a server busy answering is there."""
    try:
        httpx.get(f"{api_url}/health", timeout=httpx.Timeout(5.0, connect=2.0))
    except (httpx.ConnectError, httpx.ConnectTimeout):
        return False
    except httpx.HTTPError:
        return True
    return True


def _give_up(api_url: str, silent_for: float) -> None:
    sys.stdout.flush()
    sys.stderr.write(
        f"error: the Prefect server at {api_url.removesuffix('/api')} stopped answering "
        f"({silent_for:.0f} s) while the run was under way; start it again (`oneclick up`) "
        "and run the command again: the stage keeps what it ran before, and the new run "
        "takes over from what this one left\n"
    )
    sys.stderr.flush()
    os._exit(1)


@contextmanager
def server_watch(api_url: str) -> Iterator[None]:
    stop = threading.Event()

    def watch() -> None:
        last_answer = time.monotonic()
        while not stop.wait(INTERVAL):
            if _reachable(api_url):
                last_answer = time.monotonic()
            elif time.monotonic() - last_answer >= GRACE and not stop.is_set():
                _give_up(api_url, time.monotonic() - last_answer)

    thread = threading.Thread(target=watch, name="oneclick-server-watch", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
