"""A plain-HTTP front for the test cluster's API server that answers some requests with an
error before passing the rest through (TLS and the admin certificate on the inside), for
tests of how oneclick meets a flaky control plane.

``FlakyApiServer(server, tls, fail={"PATCH": 2}, status=503)`` fails the first two PATCH
requests; ``kubeconfig()`` is a kubeconfig pointing at it; ``failed`` counts what it failed.
"""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import yaml


class FlakyApiServer:
    def __init__(
        self, server: str, tls: ssl.SSLContext, fail: dict[str, int], status: int = 503
    ) -> None:
        self.upstream = httpx.Client(base_url=server, verify=tls, timeout=30)
        self.remaining = dict(fail)
        self.failed: dict[str, int] = {}
        self.status = status
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if outer._should_fail(self.command):
                    payload = json.dumps(
                        {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                         "message": "injected by the test", "code": outer.status}
                    ).encode()  # fmt: skip
                    self.send_response(outer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = outer.upstream.request(self.command, self.path, content=body,
                                                headers=headers)  # fmt: skip
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in ("transfer-encoding", "content-length", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_PATCH = do_POST = do_PUT = do_DELETE = _relay

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _should_fail(self, method: str) -> bool:
        with self.lock:
            if self.remaining.get(method, 0) > 0:
                self.remaining[method] -= 1
                self.failed[method] = self.failed.get(method, 0) + 1
                return True
        return False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def kubeconfig(self) -> str:
        return yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "flaky", "cluster": {"server": self.url}}],
                "users": [{"name": "flaky", "user": {}}],
                "contexts": [{"name": "flaky", "context": {"cluster": "flaky", "user": "flaky"}}],
                "current-context": "flaky",
            }
        )

    def __enter__(self) -> FlakyApiServer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.upstream.close()
