"""Constants and helpers the tests share."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SECRET = "s3cr3t-payments-key-do-not-leak"
RUNTIME_PREFIX = "runtime-tests"  # where the session's runtime base image is pushed


def without_server(home: Path) -> dict[str, str]:
    """This environment on oneclick home ``home``, with no Prefect settings (no server)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return {**env, "ONECLICK_HOME": str(home)}


def oneclick(
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """The oneclick command run as a person runs it: a process of its own, in ``env`` (by
    default this test's environment), its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "oneclick.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ if env is None else env),
        input=stdin,
    )


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
