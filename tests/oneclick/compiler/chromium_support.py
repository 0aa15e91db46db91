"""A headless Chromium driven over the DevTools protocol, for optional browser checks.

Tests that use it are skipped when no Chromium is installed: the suite never depends on it.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HAS_WEBSOCKETS = importlib.util.find_spec("websockets") is not None
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None or not HAS_WEBSOCKETS, reason="Chromium (or websockets) is not installed"
)


class Browser:
    """One page in a headless Chromium; ``evaluate`` runs JavaScript in it."""

    def __init__(self, socket: Any) -> None:
        self._socket = socket
        self._next = 0
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})
        self._session = attached["sessionId"]
        self._send("Page.enable", {}, self._session)

    def _send(self, method: str, params: dict[str, Any], session: str | None = None) -> Any:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self._socket.send(json.dumps(message))
        while True:
            answer = json.loads(self._socket.recv(timeout=30))
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise AssertionError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def evaluate(self, expression: str) -> Any:
        params = {"expression": expression, "awaitPromise": True, "returnByValue": True}
        result = self._send("Runtime.evaluate", params, self._session)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 15) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except AssertionError:
                value = None  # the page is changing under us
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {expression}")

    def run_on_every_page(self, script: str) -> None:
        """Run ``script`` in every page opened from now on, before the page's own scripts."""
        params = {"source": script}
        self._send("Page.addScriptToEvaluateOnNewDocument", params, self._session)

    def navigate(self, url: str) -> None:
        """Go to any page (a single-page app may rewrite its address as it loads)."""
        self._send("Page.navigate", {"url": url}, self._session)
        self.wait_for("document.readyState === 'complete'")

    def open(self, url: str) -> None:
        """Go to a screen page and wait until ``app.js`` has rendered it."""
        self._send("Page.navigate", {"url": url}, self._session)
        self.wait_for(
            f"location.href === {json.dumps(url)} && document.readyState === 'complete' && "
            "(!document.getElementById('screen') || "
            "document.getElementById('screen').dataset.ready === 'true')"
        )


@contextmanager
def chromium(profile: Path) -> Iterator[Browser]:
    from websockets.sync.client import connect

    assert CHROMIUM is not None
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        url = _devtools_url(process)
        with connect(url, max_size=None) as socket:
            yield Browser(socket)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def _devtools_url(process: subprocess.Popen[str]) -> str:
    assert process.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        found = re.search(r"DevTools listening on (ws://\S+)", line)
        if found:
            # keep draining stderr, or Chromium blocks once the pipe is full
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return found.group(1)
        if not line and process.poll() is not None:
            break
    raise AssertionError("Chromium did not start its DevTools endpoint")
