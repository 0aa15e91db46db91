"""The same publish in this process and on a Docker work pool worker, from one run here.

    .venv/bin/python bench/work_pool.py [--rounds 2]

Starts its own Prefect server, registry, Docker engine and PostgreSQL (as the tests do;
needs Debian's docker.io, docker-registry and postgresql, and root), builds the runtime
base and the worker image, and sets up a team's workspace (catalog on PostgreSQL, library
builds in the registry). Each round publishes the example app to two fresh docker stages:
once in this process, once as a flow run of the work pool, in a container of the worker
image (host network, no volume). Both build the same image; the pool's figure includes the
worker picking the run up, the container's start and Prefect's import in it. Prints the
medians and their ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.publish import scratch_server, timed  # noqa: E402

POOL = "oneclick-bench"
CONFIG = {
    "settings": {"expenses": {"ApprovalLimit": "300"}},
    "secrets": {"expenses": {"PaymentsApiKey": "bench-key"}},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    rounds = parser.parse_args().rounds
    os.chdir(ROOT)  # deployments name their flows by path from here
    with scratch_server() as (_, home, _started), ExitStack() as stack:
        figures = measure(home, rounds, stack)
    width = max(len(name) for name in figures)
    for name, value in figures.items():
        print(f"{name:<{width}}  {value}")


def measure(home: Path, rounds: int, stack: ExitStack) -> dict[str, str]:
    from prefect.deployments import run_deployment

    from blocks import Registry, Stage, Workspace
    from flows.publish_app import publish_app
    from flows.publish_library import publish_library
    from oneclick.images.runtime_image import RuntimeTarget, build_runtime_image
    from oneclick.images.worker_image import WorkerTarget, build_worker_image
    from oneclick.registry import RegistryConfig
    from oneclick.runtimes.docker_config import DockerRuntimeConfig
    from tests.docker_fixture import start_engine, stop_engine
    from tests.oneclick.data.local_postgres import LocalPostgres, find_binaries
    from tests.oneclick.images.registry_support import running_registry

    registry = stack.enter_context(running_registry(Path(tempfile.mkdtemp())))
    engine = start_engine()
    stack.callback(stop_engine, engine)
    binaries = find_binaries()
    assert binaries is not None, "PostgreSQL is not installed (scripts/test-deps)"
    postgres = LocalPostgres(binaries).start()
    stack.callback(postgres.stop)

    config = RegistryConfig(url=registry.host, insecure=True, prefix="bench")
    base = RuntimeTarget(registry=config, reference=config.base_reference())
    build_runtime_image(base, cache=home / "cache" / "runtime", packages="installed")
    worker = build_worker_image(WorkerTarget(registry=config), cache=home / "cache" / "worker")
    for block in (Stage, Registry, Workspace):
        block.register_type_and_schema()
    Registry(url=registry.host, insecure=True, prefix="bench").save("bench")
    catalog = postgres.create_database("catalog")
    Workspace(catalog_url=catalog, library_registry="bench").save("default", overwrite=True)
    docker = DockerRuntimeConfig(engine_url=engine.tcp_url, namespace="bench")
    for round_ in range(rounds):
        for kind in ("here", "pool"):
            database = f"{kind}_{round_}_{{app}}"
            postgres.create_named_database(database.format(app="expenses"))
            Stage(
                runtime="docker",
                registry="bench",
                docker=docker,
                database_url=postgres.url(database),
                **CONFIG,
            ).save(f"{kind}-{round_}", overwrite=True)
    for library in ("money-formats", "finance-common"):
        publish_library(str(ROOT / "examples" / library))

    env = {**os.environ, "DOCKER_HOST": engine.url, "PREFECT_WORKER_QUERY_SECONDS": "1"}
    create = [sys.executable, "-m", "prefect", "--no-prompt", "work-pool", "create", POOL]
    subprocess.run([*create, "--type", "docker", "--overwrite"], env=env, check=True)
    publish_app.deploy(
        "publish-app-bench",
        work_pool_name=POOL,
        image=f"{worker.reference.partition('@')[0]}:{worker.tag}",
        build=False,
        push=False,
        job_variables={"network_mode": "host", "image_pull_policy": "IfNotPresent"},
        print_next_steps=False,
    )
    start = [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL, "--type", "docker"]
    process = subprocess.Popen(start, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stack.callback(process.terminate)

    def on_pool(stage: str) -> None:
        run = run_deployment(
            "publish-app/publish-app-bench",
            parameters={"path": "examples/expenses", "stage": stage},
            timeout=900,
        )
        assert run.state is not None and run.state.is_completed(), run.state

    app = str(ROOT / "examples" / "expenses")
    here, pool = [], []
    for round_ in range(rounds):
        here.append(timed(lambda r=round_: publish_app(app, f"here-{r}")))
        pool.append(timed(lambda r=round_: on_pool(f"pool-{r}")))
        time.sleep(1)
    here_s, pool_s = statistics.median(here), statistics.median(pool)
    return {
        "worker image": f"{worker.size / 1e6:.1f} MB compressed",
        "publish in process (median)": f"{here_s:.2f} s",
        "publish on the docker work pool (median)": f"{pool_s:.2f} s",
        "work pool / in process": f"{pool_s / here_s:.2f}x",
    }


if __name__ == "__main__":
    main()
