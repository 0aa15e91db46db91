"""The Prefect server goes away in the middle of a publish: the CLI says so within seconds
(not after minutes of retries), and once the server is back the same command converges."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support import EXAMPLES, SECRET, free_port, oneclick, without_server

STAGE = """
from blocks import Stage
Stage(
    order=1,
    settings={"expenses": {"ApprovalLimit": "100"}},
    secrets={"expenses": {"PaymentsApiKey": %r}},
).save("development", overwrite=True)
"""


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_publish_whose_server_goes_away_ends_quickly_and_converges_later(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    env = without_server(home)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return oneclick(*args, env=env, timeout=600)

    port = free_port()
    up = ["up", "--port", str(port), "--relay-port", str(free_port())]
    assert run(*up).returncode == 0
    try:
        api = {**env, "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
        made = subprocess.run([sys.executable, "-c", STAGE % SECRET], env=api, timeout=120)
        assert made.returncode == 0
        for library in ("money-formats", "finance-common"):
            assert run("publish", "library", str(EXAMPLES / library)).returncode == 0

        publish = subprocess.Popen(
            [sys.executable, "-m", "oneclick.cli", "publish", "app", str(EXAMPLES / "expenses")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        started = threading.Event()
        lines: list[str] = []

        def read() -> None:
            assert publish.stderr is not None
            for line in publish.stderr:
                lines.append(line)
                if "compile app" in line:
                    started.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert started.wait(240), "".join(lines)
        server = json.loads((home / "prefect" / "server.json").read_text())["pid"]
        os.kill(server, signal.SIGKILL)
        killed = time.monotonic()
        code = publish.wait(timeout=120)
        ended_after = time.monotonic() - killed
        reader.join(timeout=10)
        text = "".join(lines)
        assert code == 1, text
        assert "stopped answering" in text and "start it again (`oneclick up`)" in text
        assert "Traceback" not in text
        assert ended_after < 30, f"the CLI took {ended_after:.0f} s to notice"  # was 156 s

        assert run(*up).returncode == 0  # the server again, on the same home
        again = run("publish", "app", str(EXAMPLES / "expenses"))
        assert again.returncode == 0, again.stdout + again.stderr
        assert "runs on development" in again.stdout
    finally:
        run("down")
