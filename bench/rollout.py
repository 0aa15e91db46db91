"""Rollout figures on embedded defaults, from one run on this machine.

    .venv/bin/python bench/rollout.py [--rounds 5]

Starts its own Prefect server in a temporary ONECLICK_HOME, publishes the example app to
development, then measures, in process:
- an empty flow run (the cost of a flow run itself), a no-op publish (the stage already
  serves the build), and what the no-op adds on top of the flow run;
- a publish with a schema change, and a publish that fails (a setting the app cannot start
  with), each under a load loop against the stage's app (``/api/employee`` and ``/readyz``
  in turn, 127.0.0.1 only): requests served and failed.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.publish import scratch_server, timed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    with scratch_server() as (context, home, _):
        figures = measure(context, home, rounds)
    width = max(len(name) for name in figures)
    for name, value in figures.items():
        print(f"{name:<{width}}  {value}")


def measure(context: object, home: Path, rounds: int) -> dict[str, str]:
    from prefect import flow

    from blocks import Stage
    from flows.publish_app import publish_app
    from flows.publish_library import publish_library
    from oneclick.cli.setup import ensure_stages
    from oneclick.errors import DeployError
    from oneclick.runtimes import LocalRuntime
    from tests.flows.rollout_support import LoadLoop, variant

    @flow(name="empty")
    def empty() -> None:
        return None

    Stage.register_type_and_schema()
    ensure_stages(context)  # type: ignore[arg-type]
    for library in ("money-formats", "finance-common"):
        publish_library(str(ROOT / "examples" / library))
    app = str(ROOT / "examples" / "expenses")
    publish_app(app, "development")
    empty_s = statistics.median(timed(empty) for _ in range(rounds))
    noop_s = statistics.median(
        timed(lambda: publish_app(app, "development")) for _ in range(rounds)
    )
    runtime = LocalRuntime(home / "runtime")

    def locate() -> str | None:
        status = runtime.status("development", "expenses")
        return status.url if status is not None else None

    scratch = home / "variants"
    changed = variant(scratch, "v2", version="1.1.0", phone=True)
    with LoadLoop(locate) as change:
        change_s = timed(lambda: publish_app(str(changed), "development"))
    block = Stage.load("development")
    assert isinstance(block, Stage)
    broken = block.model_copy(update={"settings": {"expenses": {"ApprovalLimit": "not-a-number"}}})
    broken.save("development", overwrite=True)
    failing = variant(scratch, "v3", version="1.2.0", phone=True, job_title=True)
    started = time.perf_counter()
    with LoadLoop(locate) as failure, contextlib.suppress(DeployError):
        publish_app(str(failing), "development")
    failure_s = time.perf_counter() - started
    return {
        "empty flow run (median)": f"{empty_s:.3f} s",
        "no-op publish (median)": f"{noop_s:.3f} s",
        "no-op publish on top of a flow run": f"{noop_s - empty_s:.3f} s",
        "publish with a schema change": f"{change_s:.3f} s",
        "  requests served / failed": f"{change.ok} / {len(change.failures)}",
        "failed publish (never ready)": f"{failure_s:.3f} s",
        "  requests served / failed ": f"{failure.ok} / {len(failure.failures)}",
        "no-op / schema-change publish": f"{noop_s / change_s:.2f}",
    }


if __name__ == "__main__":
    main()
