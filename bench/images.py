"""Image build+push timings against a real registry on 127.0.0.1, from one run on this machine.

    .venv/bin/python bench/images.py [--rounds 3] [--packages installed|index]

Starts Debian's ``docker-registry`` with a config of its own in a temporary directory, then
measures: the runtime base image (``oneclick runtime build``'s work) cold (empty cache) and
warm, pushed to the registry; and the daemonless build+push of the example app on it: cold
(a new repository: every app blob uploaded, base layers mounted), warm (unchanged: nothing
uploaded) and after a change of the app only. Then the same three steps through a Docker
engine (a private ``dockerd`` started here, vfs storage; as root, skipped otherwise): the
engine builds the same spec on the same base (pulled from the registry on the cold build)
and pushes to a repository of its own. Prints the medians, blob counts and the ratios
Docker engine / daemonless for each step.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--packages", choices=["installed", "index"], default="installed")
    args = parser.parse_args()

    from oneclick.compiler import compile_app
    from oneclick.images import ImageSpec, RegistryImageBuilder
    from oneclick.images.runtime_image import RuntimeTarget, build_runtime_image
    from oneclick.registry import RegistryConfig
    from tests.oneclick.compiler.compiler_support import compile_example_libraries, example_app
    from tests.oneclick.images.registry_support import REGISTRY, start_registry

    if REGISTRY is None:
        sys.exit("docker-registry is not installed: apt-get install -y docker-registry")
    packages: Literal["installed", "index"] = args.packages
    work = Path(tempfile.mkdtemp(prefix="oneclick-bench-images-"))
    registry = start_registry(work / "registry")
    figures: dict[str, float] = {}
    notes: dict[str, str] = {}
    try:
        config = RegistryConfig(url=registry.host, insecure=True, prefix="bench")
        target = RuntimeTarget(registry=config, reference=config.base_reference())
        cache = work / "cache"
        figures["runtime base, cold"], base = timed(
            lambda: build_runtime_image(target, cache=cache, packages=packages)
        )
        notes["runtime base, cold"] = f"{base.size / 1e6:.1f} MB, {base.uploaded} blobs up"
        warm = [timed(lambda: build_runtime_image(target, cache=cache, packages=packages))]
        figures["runtime base, warm"] = statistics.median(t for t, _ in warm)
        notes["runtime base, warm"] = f"{warm[-1][1].uploaded} blobs up"

        libraries = compile_example_libraries(work / "libs")
        spec = ImageSpec(
            repository="expenses",
            tag="1.0.0",
            app_build=compile_app(example_app(), libraries, work / "app").path,
            library_builds=[(library.name, library.path) for library in libraries],
        )
        builder = RegistryImageBuilder(config)
        figures["app build+push, cold"], cold = timed(lambda: builder.build(spec))
        notes["app build+push, cold"] = f"{cold.uploaded} up, {cold.mounted} mounted"
        rounds = [timed(lambda: builder.build(spec)) for _ in range(args.rounds)]
        figures["app build+push, warm (unchanged)"] = statistics.median(t for t, _ in rounds)
        notes["app build+push, warm (unchanged)"] = f"{rounds[-1][1].uploaded} up"
        (spec.app_build / "static" / "bench-change.txt").write_text("changed\n")
        figures["app build+push, app changed"], changed = timed(lambda: builder.build(spec))
        notes["app build+push, app changed"] = f"{changed.uploaded} up"
        engine_figures = docker_column(config, base.reference, spec, args.rounds)
    finally:
        registry.stop()
        shutil.rmtree(work, ignore_errors=True)

    width = max(len(name) for name in figures)
    print(f"{'daemonless step':<{width}}  seconds  (median of {args.rounds} where repeated)")
    for name, seconds in figures.items():
        print(f"{name:<{width}}  {seconds:7.3f}  {notes.get(name, '')}")
    print()
    base_ratio = figures["runtime base, warm"] / figures["runtime base, cold"]
    app_ratio = figures["app build+push, warm (unchanged)"] / figures["app build+push, cold"]
    print(f"runtime base warm / cold        {base_ratio:6.2f}")
    print(f"app build+push warm / cold      {app_ratio:6.2f}")
    if not engine_figures:
        print("\nDocker engine column skipped: needs root and dockerd (apt-get install docker.io)")
        return
    print()
    print(f"{'app build+push':<{width}}  daemonless  docker engine  engine / daemonless")
    for name, seconds in engine_figures.items():
        ours = figures[f"app build+push, {name}"]
        print(f"{name:<{width}}  {ours:10.3f}  {seconds:13.3f}  {seconds / ours:19.1f}")


def docker_column(config: Any, base: str, spec: Any, rounds: int) -> dict[str, float]:
    """The same app steps through a private Docker engine; {} where none can be started."""
    import os

    from oneclick.images.docker_backend import DockerImageBuilder
    from tests.docker_fixture import DOCKERD, start_engine, stop_engine

    if DOCKERD is None or os.geteuid() != 0:
        return {}
    engine = start_engine()
    try:
        target = config.model_copy(update={"prefix": "bench-docker", "builder": "docker"})
        builder = DockerImageBuilder(engine.client, base=base, registry=target)
        (spec.app_build / "static" / "bench-change.txt").unlink()
        figures = {}
        figures["cold"], _ = timed(lambda: builder.build(spec))
        warm = [timed(lambda: builder.build(spec))[0] for _ in range(rounds)]
        figures["warm (unchanged)"] = statistics.median(warm)
        (spec.app_build / "static" / "bench-change.txt").write_text("changed\n")
        figures["app changed"], _ = timed(lambda: builder.build(spec))
        return figures
    finally:
        stop_engine(engine)


if __name__ == "__main__":
    main()
