"""Constants the tests share."""

from __future__ import annotations

import socket
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SECRET = "s3cr3t-payments-key-do-not-leak"
RUNTIME_PREFIX = "runtime-tests"  # where the session's runtime base image is pushed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
