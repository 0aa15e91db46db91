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


def latest_artifact(key: str) -> str:
    """The newest artifact with ``key`` on the test server, as text."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        artifacts = client.read_latest_artifacts(limit=200)
    found = [a for a in artifacts if a.key == key]
    assert found, f"no artifact {key}"
    return str(found[0].data)
