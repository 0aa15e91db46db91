"""Rollout figures on embedded defaults, from one run on this machine.

    .venv/bin/python bench/rollout.py [--rounds 5] [--docker]

Starts its own Prefect server in a temporary ONECLICK_HOME, publishes the example app to
development, then measures, in process:
- an empty flow run (the cost of a flow run itself), a no-op publish (the stage already
  serves the build), and what the no-op adds on top of the flow run;
- a publish with a schema change, and a publish that fails (a setting the app cannot start
  with), each under a load loop against the stage's app (``/api/employee`` and ``/readyz``
  in turn, 127.0.0.1 only): requests served and failed. On the local runtime, and with
  ``--docker`` on a docker stage too (a private dockerd and registry, as the tests start
  them; needs Debian's docker.io and docker-registry).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.publish import scratch_server, timed  # noqa: E402

SECRETS = {"expenses": {"PaymentsApiKey": "bench-key"}}
GOOD = {"expenses": {"ApprovalLimit": "900"}}
BROKEN = {"expenses": {"ApprovalLimit": "not-a-number"}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--docker", action="store_true", help="also measure a docker stage")
    options = parser.parse_args()
    with scratch_server() as (context, home, _):
        figures = no_op_figures(context, options.rounds)
        figures.update(load_figures("local", "development", home, major=1))
        if options.docker:
            with docker_stage(home) as stage:
                figures.update(load_figures("docker", stage, home, major=2))
    width = max(len(name) for name in figures)
    for name, value in figures.items():
        print(f"{name:<{width}}  {value}")


def no_op_figures(context: object, rounds: int) -> dict[str, str]:
    from prefect import flow

    from blocks import Stage
    from flows.publish_app import publish_app
    from flows.publish_library import publish_library
    from oneclick.cli.setup import ensure_stages

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
    return {
        "empty flow run (median)": f"{empty_s:.3f} s",
        "no-op publish (median)": f"{noop_s:.3f} s",
        "no-op publish on top of a flow run": f"{noop_s - empty_s:.3f} s",
    }


def load_figures(label: str, stage: str, home: Path, major: int) -> dict[str, str]:
    """A first release, then a schema change and a failed publish under load, on ``stage``
    (versions ``major``.x: a release is one image, and each stage here builds its own)."""
    from blocks import Stage
    from flows.publish_app import publish_app
    from flows.stages import load_stage
    from oneclick.errors import DeployError
    from oneclick.home import Home
    from oneclick.runtimes.select import stage_runtime
    from tests.flows.rollout_support import LoadLoop, variant

    oneclick_home = Home(home)
    runtime = stage_runtime(load_stage(stage, oneclick_home), oneclick_home)
    scratch = home / "variants" / label

    def locate() -> str | None:
        status = runtime.status(stage, "expenses")
        return status.url if status is not None else None

    publish_app(str(variant(scratch, "v1", version=f"{major}.0.1")), stage)  # not measured
    changed = variant(scratch, "v2", version=f"{major}.1.0", phone=True)
    with LoadLoop(locate) as change:
        change_s = timed(lambda: publish_app(str(changed), stage))
    block = Stage.load(stage)
    assert isinstance(block, Stage)
    block.model_copy(update={"settings": BROKEN}).save(stage, overwrite=True)
    failing = variant(scratch, "v3", version=f"{major}.2.0", phone=True, job_title=True)
    started = time.perf_counter()
    with LoadLoop(locate) as failure, contextlib.suppress(DeployError):
        publish_app(str(failing), stage)
    failure_s = time.perf_counter() - started
    block.save(stage, overwrite=True)
    runtime.undeploy(stage, "expenses")
    return {
        f"{label}: publish with a schema change": f"{change_s:.3f} s",
        f"{label}:   requests served / failed": f"{change.ok} / {len(change.failures)}",
        f"{label}: failed publish (never ready)": f"{failure_s:.3f} s",
        f"{label}:   requests served / failed ": f"{failure.ok} / {len(failure.failures)}",
    }


@contextlib.contextmanager
def docker_stage(home: Path) -> Iterator[str]:
    """A docker stage on a private dockerd, its images in a private registry."""
    from blocks import Registry, Stage
    from oneclick.images.runtime_image import RuntimeTarget, build_runtime_image
    from oneclick.registry import RegistryConfig
    from oneclick.runtimes.docker_config import DockerRuntimeConfig
    from tests.docker_fixture import start_engine, stop_engine
    from tests.oneclick.images.registry_support import running_registry

    engine = start_engine()
    try:
        with running_registry(home / "registry") as registry:
            config = RegistryConfig(url=registry.host, insecure=True, prefix="bench")
            target = RuntimeTarget(registry=config, reference=config.base_reference())
            build_runtime_image(target, cache=home / "cache", packages="installed")
            Registry(url=registry.host, insecure=True, prefix="bench").save("bench-registry")
            Stage(
                order=9,
                runtime="docker",
                registry="bench-registry",
                docker=DockerRuntimeConfig(engine_url=engine.url, namespace="bench"),
                settings=GOOD,
                secrets=SECRETS,
            ).save("docker-bench")
            yield "docker-bench"
    finally:
        stop_engine(engine)


if __name__ == "__main__":
    main()
