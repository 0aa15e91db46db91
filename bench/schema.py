"""Data tool timings for a model of 50 entities of 20 attributes, on SQLite and PostgreSQL.

    .venv/bin/python bench/schema.py [--rounds 3] [--rows 100] [--entities 50] [--attributes 20]

For each backend, on fresh databases: the plan and the apply that create the schema; then,
with ``--rows`` rows in every table, the plan and the apply of an evolution (one new
attribute per entity, one widened type per entity); then the data step of an unchanged
release (the fast path: the recorded fingerprint matches, no schema scan) against a full plan
of the same, unchanged schema. Prints the median of ``--rounds`` runs of each and the ratios.
PostgreSQL is Debian's, started privately on 127.0.0.1 for the run (skipped, saying so, when
it is not installed).
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert  # noqa: E402

from oneclick.compiler.schema import app_metadata, schema_fingerprint  # noqa: E402
from oneclick.data import apply_schema, plan_schema  # noqa: E402
from oneclick.model.types import AppModel  # noqa: E402
from tests.oneclick.data.local_postgres import LocalPostgres, find_binaries  # noqa: E402

TYPES = ["text", "integer", "decimal", "date", "boolean", "long", "datetime", "email"]


def wide_model(entities: int, attributes: int, evolved: bool = False) -> AppModel:
    """``entities`` entities of ``attributes`` attributes each (every type, references to the
    previous entity, one index each); ``evolved`` adds one attribute and widens one."""
    specs = []
    for e in range(entities):
        attrs: list[dict[str, Any]] = [
            {"name": f"Field{a}", "type": TYPES[a % len(TYPES)]} for a in range(attributes - 1)
        ]
        attrs.append({"name": "Parent", "type": f"Thing{e - 1}" if e else "integer"})
        if evolved:
            attrs[0]["length"] = 200  # text(50) → text(200)
            attrs.append({"name": "Added", "type": "boolean", "mandatory": True, "default": False})
        specs.append(
            {"name": f"Thing{e}", "attributes": attrs, "indexes": [{"attributes": ["Field1"]}]}
        )
    return AppModel.model_validate({"app": "bench", "entities": specs})


def fill(url: str, model: AppModel, rows: int) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for table in app_metadata(model).sorted_tables:
            values = [
                {"field0": f"row {i}", "field1": i, "field3": None, "parent": None}
                for i in range(rows)
            ]
            connection.execute(insert(table), values)
    engine.dispose()


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure(new_database: Callable[[], str], args: argparse.Namespace) -> dict[str, float]:
    first = wide_model(args.entities, args.attributes)
    second = wide_model(args.entities, args.attributes, evolved=True)
    meta1, meta2 = app_metadata(first), app_metadata(second)
    fp1, fp2 = schema_fingerprint(first), schema_fingerprint(second)

    def one_round(url: str, note: Callable[[str, float], None]) -> None:
        note("plan, empty database", timed(lambda: plan_schema(url, meta1, fp1)))
        note(
            "apply, create schema",
            timed(lambda: apply_schema(url, meta1, fp1, app="b", release="1")),
        )
        fill(url, first, args.rows)
        note("plan, evolution", timed(lambda: plan_schema(url, meta2, fp2)))
        note("apply, evolution", timed(lambda: apply_schema(url, meta2, fp2, app="b", release="2")))
        for _ in range(5):
            note(
                "no-change data step (fast path)",
                timed(lambda: apply_schema(url, meta2, fp2, app="b", release="2")),
            )
            note(
                "full plan, no change",
                timed(lambda: plan_schema(url, meta2, "sha256:not-recorded")),
            )

    runs: dict[str, list[float]] = {}

    def note(name: str, seconds: float) -> None:
        runs.setdefault(name, []).append(seconds)

    for _ in range(args.rounds):
        one_round(new_database(), note)
    return {name: statistics.median(values) for name, values in runs.items()}


def report(backend: str, figures: dict[str, float]) -> None:
    print(f"\n{backend}")
    for name, seconds in figures.items():
        print(f"  {name:<36} {seconds * 1000:9.1f} ms")
    fast = figures["no-change data step (fast path)"]
    print(f"  {'full plan / fast path':<36} {figures['full plan, no change'] / fast:9.1f} x")
    print(f"  {'apply evolution / fast path':<36} {figures['apply, evolution'] / fast:9.1f} x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--entities", type=int, default=50)
    parser.add_argument("--attributes", type=int, default=20)
    args = parser.parse_args()
    print(
        f"model: {args.entities} entities x {args.attributes} attributes, {args.rows} rows per "
        f"table before the evolution; medians of {args.rounds} rounds (fast path and full "
        f"plan: {args.rounds * 5} runs)"
    )
    folder = Path(tempfile.mkdtemp(prefix="oneclick-bench-schema-"))
    counter = iter(range(10**6))
    try:
        report("SQLite", measure(lambda: f"sqlite:///{folder / f'{next(counter)}.db'}", args))
        binaries = find_binaries()
        if binaries is None:
            print("\nPostgreSQL: skipped, not installed (apt-get install postgresql)")
            return
        server = LocalPostgres(binaries).start()
        try:
            report("PostgreSQL", measure(server.create_database, args))
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
