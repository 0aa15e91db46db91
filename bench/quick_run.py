"""How soon a quick run started from the Prefect UI gets going, from one run on this machine.

    .venv/bin/python bench/quick_run.py [--rounds 5]

Runs `oneclick up` on a scratch home (its own Prefect server and the served deployments),
then creates flow runs of the sync-schedules deployment the way the UI's Quick run does, and
measures for each: created → Running (the served runner's poll, then the run's process start)
and Running → Completed (the flow itself). Prints the medians and their ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import free_port  # noqa: E402


def oneclick(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "oneclick.cli", *args], env=env, check=True)


def one_run(client: httpx.Client, deployment: str) -> tuple[float, float]:
    created = client.post(f"/deployments/{deployment}/create_flow_run", json={}).json()
    while True:
        run = client.get(f"/flow_runs/{created['id']}").json()
        if run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED"):
            break
        time.sleep(0.1)
    assert run["state"]["type"] == "COMPLETED", run["state"]
    states = client.get("/flow_run_states/", params={"flow_run_id": created["id"]}).json()
    at = {s["type"]: datetime.fromisoformat(s["timestamp"]) for s in states}
    start = datetime.fromisoformat(created["created"])
    return (at["RUNNING"] - start).total_seconds(), (
        at["COMPLETED"] - at["RUNNING"]
    ).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory(prefix="oneclick-bench-") as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env["ONECLICK_HOME"] = str(Path(scratch) / "home")
        port = free_port()
        oneclick(env, "up", "--port", str(port), "--relay-port", str(free_port()))
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}/api", timeout=30) as client:
                found = client.get("/deployments/name/sync-schedules/sync-schedules").json()
                one_run(client, found["id"])  # the first run warms the caches
                figures = [one_run(client, found["id"]) for _ in range(rounds)]
        finally:
            oneclick(env, "down")
    to_running = statistics.median(f[0] for f in figures)
    running = statistics.median(f[1] for f in figures)
    print(f"created → Running    {to_running:6.2f} s  (median of {rounds})")
    print(f"Running → Completed  {running:6.2f} s")
    print(f"waiting / working    {to_running / running:6.2f}x")


if __name__ == "__main__":
    main()
