"""What the quick commands cost, from one run on this machine: CPU seconds (user + system)
of ``oneclick --help``, ``oneclick status`` and ``oneclick check`` (a library model), beside
a bare ``python -c pass``.

    .venv/bin/python bench/cli.py [--rounds 5]

``status`` reads a scratch home whose catalog has 3 apps on 2 stages (no Prefect server:
the stages are the embedded defaults, and nothing runs), each stage database brought to its
app's schema by the data tool, so the drift of each is told at a glance; ``status (drift)``
is the same after a column was added to one of them outside oneclick, so that database is
reflected and compared (SQLAlchemy). With ``--server``, ``oneclick up`` then starts a Prefect
server on the scratch home, the two stages become stage blocks, and ``status (server)`` is
measured reading them over the REST API. CPU time, not wall time, so other work on a busy
machine counts less; the medians of the rounds are printed with their ratio to the bare
interpreter.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from oneclick.compiler.schema import app_metadata, schema_fingerprint  # noqa: E402
from oneclick.data import apply_schema  # noqa: E402
from oneclick.home import Home  # noqa: E402
from oneclick.model.types import AppModel  # noqa: E402
from oneclick.releases import Catalog, Phase  # noqa: E402


def apply(home: Path, app: str, stage: str) -> None:
    """Bring the stage's database of ``app`` to a small model, as a publish would."""
    entity = {"name": "Expense", "attributes": [{"name": "Title", "type": "text"}]}
    model = AppModel.model_validate({"app": app, "entities": [entity]})
    url = Home(home).stage_database_url(stage).replace("{app}", app)
    Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    fingerprint = schema_fingerprint(model)
    apply_schema(url, app_metadata(model), fingerprint, app=app, release="1.0.0")


def fill(home: Path) -> None:
    catalog = Catalog(f"sqlite:///{home / 'catalog.db'}")
    for index in range(3):
        app = f"app-{index}"
        digest = f"sha256:{index:064d}"
        manifest = {"app": app, "digest": digest, "schema_fingerprint": "sha256:" + "f" * 64}
        catalog.record_release(
            manifest=manifest, model={}, version="1.0.0", image_digest=digest,
            image_reference=f"layout@{digest}",
        )  # fmt: skip
        for stage in ("development", "qa"):
            deployment = catalog.start_deployment(app, "1.0.0", stage, None)
            catalog.finish_deployment(deployment, Phase.SUCCEEDED, url="http://127.0.0.1:9")
            apply(home, app, stage)


def drift(home: Path) -> None:
    """A column added to one stage database outside oneclick."""
    with sqlite3.connect(home / "stages" / "qa" / "app-1.db") as connection:
        connection.execute("ALTER TABLE expense ADD COLUMN note TEXT")


def cpu(command: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def shown(command: list[str], env: dict[str, str]) -> str:
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


STAGES = """
from blocks import Stage
Stage(order=1).save("development", overwrite=True)
Stage(order=2).save("qa", overwrite=True)
"""


def with_server(oneclick: str, env: dict[str, str], rounds: int) -> float:
    """``status``'s CPU with the stages read from a server's blocks (started, then stopped)."""
    port, relay = (str(free_port()) for _ in range(2))
    up = [oneclick, "up", "--port", port, "--relay-port", relay]
    subprocess.run(up, env=env, check=True, stdout=subprocess.DEVNULL)
    try:
        api = {**env, "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
        subprocess.run([sys.executable, "-c", STAGES], env=api, check=True, cwd=ROOT)
        assert "no Prefect server" not in shown([oneclick, "status"], env)
        return statistics.median(cpu([oneclick, "status"], env) for _ in range(rounds))
    finally:
        subprocess.run([oneclick, "down"], env=env, check=True, stdout=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--server", action="store_true", help="also measure with a server")
    options = parser.parse_args()
    rounds = options.rounds
    oneclick = str(Path(sys.executable).with_name("oneclick"))
    os.umask(0o077)  # the scratch home is closed, as the CLI makes it
    with tempfile.TemporaryDirectory(prefix="oneclick-bench-") as scratch:
        home = Path(scratch)
        fill(home)
        env = {**os.environ, "ONECLICK_HOME": str(home)}
        env = {k: v for k, v in env.items() if not k.startswith("PREFECT_")}
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "oneclick --help": [oneclick, "--help"],
            "oneclick status": [oneclick, "status"],
            "oneclick check": [oneclick, "check", str(ROOT / "examples" / "money-formats")],
        }
        figures = {
            name: statistics.median(cpu(command, env) for _ in range(rounds))
            for name, command in commands.items()
        }
        assert " none " in shown(commands["oneclick status"], env)
        drift(home)
        assert "1 change(s)" in shown(commands["oneclick status"], env)
        figures["oneclick status (drift)"] = statistics.median(
            cpu(commands["oneclick status"], env) for _ in range(rounds)
        )
        if options.server:
            figures["oneclick status (server)"] = with_server(oneclick, env, rounds)
    bare = figures["python -c pass"]
    for name, seconds in figures.items():
        print(f"{name:<24} {seconds:6.3f} s CPU   {seconds / bare:5.1f}x the bare interpreter")


if __name__ == "__main__":
    main()
