"""Leases on (app, stage) in a real catalog: one holder at a time, across processes."""

from __future__ import annotations

import itertools
import multiprocessing
import time
from pathlib import Path

import pytest

from oneclick.releases import Catalog, Leases
from oneclick.rollout import RolloutBusyError, hold_lease, this_process


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'catalog.db'}"


def test_one_holder_at_a_time_and_an_expired_lease_is_taken_over(url: str) -> None:
    leases = Leases(Catalog(url))
    first, second = this_process("run-1", "first"), this_process("run-2", "second")
    assert leases.try_acquire("expenses", "qa", first, ttl=0.5).acquired
    busy = leases.try_acquire("expenses", "qa", second, ttl=0.5)
    assert not busy.acquired and busy.holder is not None
    assert busy.holder.run == first.run and busy.holder.flow_run_id == "run-1"
    assert leases.try_acquire("expenses", "development", second, ttl=0.5).acquired
    assert leases.try_acquire("loans", "qa", second, ttl=0.5).acquired
    time.sleep(0.6)  # the first holder stopped renewing (as a killed one does)
    taken = leases.try_acquire("expenses", "qa", second, ttl=5)
    assert taken.acquired and taken.took_over is not None
    assert taken.took_over.holder == first.holder
    assert not leases.renew("expenses", "qa", first.holder, ttl=5)
    assert not leases.release("expenses", "qa", first.holder)
    assert leases.release("expenses", "qa", second.holder)
    assert leases.holder("expenses", "qa") is None


def test_a_waiting_rollout_gives_up_naming_the_holder(url: str) -> None:
    catalog = Catalog(url)
    holder = this_process("run-1", "nightly")
    with hold_lease(catalog, "expenses", "qa", holder, ttl=2) as held:
        time.sleep(1.0)  # longer than a renewal period: the heartbeat keeps it
        assert not held.lost
        started = time.monotonic()
        with (
            pytest.raises(RolloutBusyError, match=r"flow run nightly \(run-1\)"),
            hold_lease(catalog, "expenses", "qa", this_process(), wait=1.0, ttl=2),
        ):
            pass
        assert 1.0 <= time.monotonic() - started < 5
    assert Leases(catalog).holder("expenses", "qa") is None


def _hold(
    url: str, app: str, hold_for: float, out: multiprocessing.Queue[tuple[str, float, float]]
) -> None:
    with hold_lease(Catalog(url), app, "qa", this_process(), wait=60, ttl=5):
        start = time.time()
        time.sleep(hold_for)
        out.put((app, start, time.time()))


def test_holders_in_separate_processes_take_turns_per_app_and_stage(url: str) -> None:
    Catalog(url)  # the schema, once
    context = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue[tuple[str, float, float]] = context.Queue()
    workers = [
        context.Process(target=_hold, args=(url, app, 1.0, out))
        for app in ("expenses", "expenses", "expenses", "loans")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    spans = sorted(out.get(timeout=5) for _ in workers)
    expenses = sorted((s, e) for app, s, e in spans if app == "expenses")
    assert len(expenses) == 3
    for (_, end), (start, _) in itertools.pairwise(expenses):
        assert start >= end - 0.05, "two holders of one lease overlapped"
    [(_, loans_start, loans_end)] = [span for span in spans if span[0] == "loans"]
    assert any(s < loans_end and loans_start < e for s, e in expenses), "loans waited on expenses"
