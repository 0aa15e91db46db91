"""What a scheduled promotion costs to decide, from one run on this machine.

    .venv/bin/python bench/schedule.py [--apps 20 200] [--rounds 5]

For each app count, fills a scratch release catalog (SQLite) with that many apps, each with
five releases deployed to the source stage and the oldest one on the target, then times
``gather`` (the catalog queries a promote-stage run makes) and ``decide`` (the policy, pure),
and prints them per run and per app, with the ratio between the app counts. No Prefect
server is needed: this is the engine a promote-stage run calls before it promotes anything.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402

from oneclick.policies import PromotionPolicy, decide  # noqa: E402
from oneclick.policies.candidates import gather  # noqa: E402
from oneclick.releases import Catalog, Phase  # noqa: E402
from oneclick.stages import StageConfig  # noqa: E402


def fill(catalog: Catalog, apps: int) -> None:
    for index in range(apps):
        app = f"app-{index:04d}"
        manifest = {"app": app, "digest": "sha256:" + "0" * 64, "schema_fingerprint": "f"}
        for version in range(5):
            digest = f"sha256:{index:032d}{version:032d}"
            catalog.record_release(
                manifest=manifest,
                model={},
                version=f"1.0.{version}",
                image_digest=digest,
                image_reference=f"layout@{digest}",
            )
            stages = ["dev", "qa"] if version == 0 else ["dev"]
            for stage in stages:
                deployment = catalog.start_deployment(app, f"1.0.{version}", stage, None)
                catalog.finish_deployment(deployment, Phase.SUCCEEDED, url="http://127.0.0.1:1")


def measure(apps: int, rounds: int, scratch: Path) -> tuple[float, float]:
    catalog = Catalog(f"sqlite:///{scratch / f'catalog-{apps}.db'}")
    fill(catalog, apps)
    target = StageConfig(name="qa", database_url=SecretStr("sqlite://"))
    policy = PromotionPolicy(source="dev")
    now = datetime.now(UTC)
    gathered, decided = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        candidates = gather(catalog, "dev", target)
        gathered.append(time.perf_counter() - started)
        started = time.perf_counter()
        decisions = decide(policy, candidates, now)
        decided.append(time.perf_counter() - started)
    assert sum(d.promote for d in decisions) == apps
    return statistics.median(gathered), statistics.median(decided)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, nargs="+", default=[20, 200])
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    figures: dict[str, str] = {}
    per_app: list[float] = []
    with tempfile.TemporaryDirectory(prefix="oneclick-bench-") as scratch:
        for apps in options.apps:
            gather_s, decide_s = measure(apps, options.rounds, Path(scratch))
            per_app.append((gather_s + decide_s) / apps)
            figures[f"{apps} apps: gather (median)"] = f"{gather_s * 1000:.1f} ms"
            figures[f"{apps} apps: decide (median)"] = f"{decide_s * 1000:.2f} ms"
            figures[f"{apps} apps: per app"] = f"{per_app[-1] * 1000:.2f} ms"
    if len(per_app) > 1:
        figures["per-app cost, last / first app count"] = f"{per_app[-1] / per_app[0]:.2f}x"
    width = max(len(name) for name in figures)
    for name, value in figures.items():
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
