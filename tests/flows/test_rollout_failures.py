"""Rollouts that hold when runs fail, are killed or overlap: real CLI processes, a real
SIGKILL, real app processes and SQLite stage databases, the real Prefect server.

After each failure: the previous release answers /readyz 200 and serves its data, and a
rerun converges, finding what the killed run left (its record, its process, its lease)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from flows.publish_app import publish_app
from oneclick.errors import DeployError
from oneclick.releases import Phase
from oneclick.runtimes import LocalRuntime
from oneclick.runtimes.state import STARTING, StateStore
from tests.flows.rollout_support import (
    deployments,
    employees,
    finish,
    flow_run_state,
    lock_stage_database,
    pid_alive,
    publish_and_kill,
    ready,
    start_publish,
    variant,
    wait_for,
)
from tests.support import SECRET

GOOD = {"expenses": {"ApprovalLimit": "900", "CurrencySymbol": "€"}}
BROKEN = {"expenses": {"ApprovalLimit": "not-a-number", "CurrencySymbol": "€"}}
SECRETS = {"expenses": {"PaymentsApiKey": SECRET}}
StageBlock = Callable[..., str]


def test_a_failed_deploy_after_a_schema_change_leaves_the_previous_release_ready(
    published_libraries: Path, stage_block: StageBlock, tmp_path: Path
) -> None:
    stage = stage_block("fails", order=11, settings=GOOD, secrets=SECRETS)
    good = publish_app(str(variant(tmp_path, "v1")), stage)
    assert httpx_post_employee(good.url, "Ann")
    stage_block("fails", order=11, settings=BROKEN, secrets=SECRETS)
    with pytest.raises(DeployError, match="did not become ready"):
        publish_app(str(variant(tmp_path, "v2", version="1.1.0", phone=True)), stage)
    assert ready(good.url), "the previous release turned unready"
    assert employees(good.url) == ["Ann"]
    failed = deployments(stage=stage)[0]
    assert failed.phase is Phase.FAILED and failed.version.startswith("1.1.0+")
    assert any("phone" in change for change in failed.schema_changes), failed.schema_changes


def httpx_post_employee(url: str, name: str) -> bool:
    import httpx

    response = httpx.post(f"{url}/api/employee", json={"Name": name}, trust_env=False)
    return response.status_code == 201


@pytest.mark.timeout(600)
@pytest.mark.parametrize("moment", ["build", "scripts", "deploy wait"])
def test_a_run_killed_mid_way_leaves_the_previous_release_serving_and_a_rerun_converges(
    moment: str, published_libraries: Path, stage_block: StageBlock, tmp_path: Path
) -> None:
    home = published_libraries
    stage = stage_block(
        f"kill-{moment.replace(' ', '-')}", order=12, settings=GOOD, secrets=SECRETS
    )
    good = publish_app(str(variant(tmp_path, "v1")), stage)
    assert httpx_post_employee(good.url, "Ann")
    previous = LocalRuntime(home / "runtime").status(stage, "expenses")
    assert previous is not None
    next_version = variant(tmp_path, "v2", version="1.1.0", phone=True)
    if moment == "deploy wait":
        stage_block(stage, order=12, settings=BROKEN, secrets=SECRETS)
    state = StateStore(home / "runtime")

    def started() -> bool:  # recorded before it exists: its pid is 0 until it does
        record = state.read(stage, "expenses", STARTING)
        return record is not None and record.pid > 0

    publish_and_kill(next_version, stage, home, moment, started)
    orphan = state.read(stage, "expenses", STARTING)
    assert ready(good.url), f"the previous release is not ready after a kill during {moment}"
    assert employees(good.url) == ["Ann"]

    stage_block(stage, order=12, settings=GOOD, secrets=SECRETS)
    rerun = start_publish(next_version, stage)
    output = finish(rerun)
    assert "1.1.0" in output
    latest, *earlier = deployments(stage=stage)
    assert latest.phase is Phase.SUCCEEDED and latest.version.startswith("1.1.0+")
    assert any("phone" in change for change in latest.schema_changes) or moment != "build"
    assert ready(latest.url or "") and employees(latest.url or "") == ["Ann"]
    if moment != "build":  # a killed build never reached the stage: nothing to abort
        aborted = earlier[0]
        assert aborted.phase is Phase.ABORTED, [d.phase for d in earlier]
        assert "killed or cancelled" in (aborted.message or "")
        assert aborted.flow_run_id and flow_run_state(aborted.flow_run_id) == "CRASHED"
    if orphan is not None:
        assert not pid_alive(orphan.pid), "the killed run's new process is still running"
    assert state.read(stage, "expenses", STARTING) is None
    current = LocalRuntime(home / "runtime").status(stage, "expenses")
    assert current is not None and current.url == latest.url and not pid_alive(previous.pid)


@pytest.mark.timeout(600)
def test_overlapping_publishes_take_turns_per_app_and_stage_and_other_apps_go_on(
    published_libraries: Path, stage_block: StageBlock, tmp_path: Path
) -> None:
    settings = {**GOOD, "travel": GOOD["expenses"]}
    secrets = {**SECRETS, "travel": SECRETS["expenses"]}
    stage = stage_block("busy", order=13, settings=settings, secrets=secrets)
    (published_libraries / "stages" / stage).mkdir(parents=True)
    lock = lock_stage_database(published_libraries, stage)  # the first rollout waits in it
    paths = [variant(tmp_path, f"v{n}", version=f"1.0.{n}") for n in range(5)]
    runs = [start_publish(path, stage) for path in paths]
    try:
        wait_for(lambda: deployments("expenses", stage), what="a rollout of expenses")
        finish(start_publish(variant(tmp_path, "travel", app="travel"), stage))
        [holding] = deployments("expenses", stage)
        assert holding.phase is Phase.RUNNING, "expenses did not hold its stage meanwhile"
    finally:
        lock.rollback()
        lock.close()
    for run in runs:
        finish(run)
    ours = deployments("expenses", stage)
    assert sorted(d.phase for d in ours) == [Phase.SUCCEEDED] * 5
    spans = sorted((d.started_at, d.finished_at) for d in ours)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end is not None and start >= end, "two rollouts of one app and stage overlapped"
    [travel] = deployments("travel", stage)
    assert travel.phase is Phase.SUCCEEDED
    runtime = LocalRuntime(published_libraries / "runtime")
    current = runtime.status(stage, "expenses")
    assert current is not None and current.healthy
    assert current.url == max(ours, key=lambda d: d.id).url
