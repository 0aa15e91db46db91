"""Publish and promotion timings on embedded defaults, from one run on this machine.

    .venv/bin/python bench/publish.py [--rounds 3]

Starts its own Prefect server in a temporary ONECLICK_HOME, then measures: the engine steps
alone (compile, image build cold and warm), a cold publish, warm publishes of the unchanged
app, and promotions of the same image. Prints the median of each and their ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def engine_figures(home: Path, rounds: int) -> dict[str, float]:
    from oneclick.compiler import compile_app
    from oneclick.images import ImageSpec, LayoutImageBuilder
    from oneclick.libraries.store import LibraryStore
    from oneclick.model import load_app

    store = LibraryStore(home / "libraries")
    model = load_app(ROOT / "examples" / "expenses", store)
    libraries = store.resolve(model.libraries)
    out = home / "bench-build"

    def compile_once() -> None:
        shutil.rmtree(out, ignore_errors=True)
        compile_app(model, libraries, out)

    compile_s = statistics.median(timed(compile_once) for _ in range(rounds))
    spec = ImageSpec(
        repository="expenses",
        tag="bench",
        app_build=out,
        library_builds=[(lib.name, lib.path) for lib in libraries],
    )
    cold = timed(lambda: LayoutImageBuilder(home / "bench-images").build(spec))
    warm = statistics.median(
        timed(lambda: LayoutImageBuilder(home / "bench-images").build(spec)) for _ in range(rounds)
    )
    return {"compile app": compile_s, "image build, cold": cold, "image build, warm": warm}


@contextmanager
def scratch_server() -> Iterator[tuple[Any, Path, float]]:
    """A temporary ONECLICK_HOME with its own Prefect server, torn down afterwards (apps
    stopped, home removed); yields the CLI context, the home and the server's start time."""
    home = Path(tempfile.mkdtemp(prefix="oneclick-bench-"))
    os.environ["ONECLICK_HOME"] = str(home)
    from oneclick.cli.main import Context
    from oneclick.cli.server import start_server, stop_server

    context = Context(debug=False)
    started = time.perf_counter()
    api_url = start_server(context.home, free_port())
    server_start = time.perf_counter() - started
    os.environ["PREFECT_API_URL"] = api_url
    context.connect()
    import logging

    logging.getLogger("prefect").setLevel(logging.WARNING)
    try:
        yield context, home, server_start
    finally:
        from prefect.logging.handlers import APILogWorker

        from oneclick.runtimes import LocalRuntime

        APILogWorker.drain_all(timeout=5)
        LocalRuntime(context.home.runtime).stop_all()
        stop_server(context.home)
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    figures: dict[str, float] = {}
    with scratch_server() as (context, home, server_start):
        from blocks import Stage
        from flows.promote_app import promote_app
        from flows.publish_app import publish_app
        from flows.publish_library import publish_library
        from oneclick.cli.setup import ensure_stages

        figures["Prefect server start"] = server_start
        Stage.register_type_and_schema()
        ensure_stages(context)
        for library in ("money-formats", "finance-common"):
            publish_library(str(ROOT / "examples" / library))
        figures.update(engine_figures(home, rounds))
        app = str(ROOT / "examples" / "expenses")
        figures["publish, cold"] = timed(lambda: publish_app(app, "development"))
        figures["publish, warm (unchanged)"] = statistics.median(
            timed(lambda: publish_app(app, "development")) for _ in range(rounds)
        )
        figures["promote (same image)"] = statistics.median(
            timed(lambda: promote_app("expenses", "development", "qa")) for _ in range(rounds)
        )
    width = max(len(name) for name in figures)
    print(f"{'step':<{width}}  seconds (median of {rounds} where repeated)")
    for name, seconds in figures.items():
        print(f"{name:<{width}}  {seconds:8.3f}")
    print()
    cold, warm = figures["publish, cold"], figures["publish, warm (unchanged)"]
    print(f"warm publish / cold publish      {warm / cold:6.2f}")
    print(f"promote / warm publish           {figures['promote (same image)'] / warm:6.2f}")
    image_ratio = figures["image build, warm"] / figures["image build, cold"]
    print(f"image build warm / cold          {image_ratio:6.2f}")


if __name__ == "__main__":
    main()
