"""Image build+push timings against a real registry on 127.0.0.1, from one run on this machine.

    .venv/bin/python bench/images.py [--rounds 3] [--packages installed|index]

Starts Debian's ``docker-registry`` with a config of its own in a temporary directory, then
measures: the runtime base image (``oneclick runtime build``'s work) cold (empty cache) and
warm, pushed to the registry; and the daemonless build+push of the example app on it: cold
(a new repository: every app blob uploaded, base layers mounted), warm (unchanged: nothing
uploaded) and after a change of the app only. Prints the medians, blob counts and ratios.
A Docker-engine column can be added beside the daemonless one with the same steps.
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


if __name__ == "__main__":
    main()
