"""promote_stage: a policy's run promotes every eligible app and says why it skips the others;
freezes refuse manual promotions unless forced; a rollback pins."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from blocks import Stage
from flows.promote_app import promote_app
from flows.promote_stage import promote_stage
from flows.publish_app import publish_app
from flows.rollback_app import rollback_app
from oneclick.errors import StageError
from oneclick.home import Home
from oneclick.releases import Catalog, Phase, Pins
from tests.flows.rollout_support import (
    LEASE_TTL,
    deployments,
    lock_stage_database,
    ready,
    variant,
    wait_for,
)
from tests.support import SECRET, latest_artifact

APPS = ("ps-a", "ps-b", "ps-c")


def configuration(*apps: str) -> dict[str, object]:
    return {
        "settings": {app: {"ApprovalLimit": "100"} for app in apps},
        "secrets": {app: {"PaymentsApiKey": SECRET} for app in apps},
    }


def outcomes(table: list[dict[str, str]]) -> dict[str, tuple[str, str]]:
    return {row["app"]: (row["outcome"], row["reason"]) for row in table}


def test_a_scheduled_run_promotes_the_eligible_apps_and_skips_the_others_with_a_reason(
    published_libraries: Path, stage_block: Callable[..., str], tmp_path: Path
) -> None:
    source = stage_block("ps-dev", order=70, **configuration(*APPS))
    # ps-c lacks its secret on the target: it is skipped, the others are promoted
    target_config = configuration("ps-a", "ps-b")
    target_config["settings"] = configuration(*APPS)["settings"]
    target = stage_block("ps-qa", order=71, promotion={"source": source}, **target_config)
    releases = {app: publish_app(str(variant(tmp_path, app, app=app)), source) for app in APPS}

    table = promote_stage(target)
    assert outcomes(table) == {
        "ps-a": ("promoted", ""),
        "ps-b": ("promoted", ""),
        "ps-c": ("skipped", "configuration missing: secret PaymentsApiKey"),
    }
    catalog = Catalog(Home.from_env().catalog_url)
    for app in ("ps-a", "ps-b"):
        current = catalog.current(app, target)
        assert current is not None and current.image_digest == releases[app].image_digest
        assert current.started_by == "in process: promote-stage ps-qa"
    artifact = latest_artifact("promote-ps-qa")
    assert "ps-c" in artifact and "configuration missing" in artifact

    # nothing new: no redeploy, each app says why
    again = outcomes(promote_stage(target))
    assert again["ps-a"] == ("skipped", f"already runs {releases['ps-a'].version}")

    # a rollback pins the app; the next run leaves it alone until a person unpins it
    newer = publish_app(str(variant(tmp_path, "a2", app="ps-a", version="1.0.1")), source)
    assert outcomes(promote_stage(target))["ps-a"] == ("promoted", "")
    rollback_app("ps-a", target)
    outcome, reason = outcomes(promote_stage(target))["ps-a"]
    first = releases["ps-a"].version
    assert outcome == "skipped" and reason.startswith(f"pinned on {first} by rollback at ")
    assert Pins(catalog).unpin("ps-a", target) is not None
    assert outcomes(promote_stage(target))["ps-a"] == ("promoted", "")
    assert catalog.current("ps-a", target).version == newer.version  # type: ignore[union-attr]


def test_soak_time_and_stop_the_line_hold_promotions_back(
    published_libraries: Path, stage_block: Callable[..., str], tmp_path: Path
) -> None:
    source = stage_block("soak-dev", order=72, **configuration("soak-a"))
    target = stage_block(
        "soak-qa",
        order=73,
        promotion={"source": source, "soak_minutes": 30},
        **configuration("soak-a"),
    )
    publish_app(str(variant(tmp_path, "soak-a", app="soak-a")), source)
    [row] = promote_stage(target)
    assert row["outcome"] == "skipped"
    assert row["reason"].startswith("not soaked yet: served on soak-dev for 0 of 30 min")

    stage_block(
        target,
        order=73,
        promotion={"source": source, "stop_the_line": True, "stop_reason": "incident 7"},
        **configuration("soak-a"),
    )
    [row] = promote_stage(target)
    assert row["reason"] == "frozen: the line is stopped: incident 7"


def test_a_frozen_stage_refuses_a_manual_promotion_and_records_a_forced_one(
    published_libraries: Path, stage_block: Callable[..., str], tmp_path: Path
) -> None:
    source = stage_block("frz-dev", order=74, **configuration("frz-a"))
    now = datetime.now(UTC)
    window = {"start": now - timedelta(hours=1), "end": now + timedelta(hours=1), "reason": "audit"}
    target = stage_block(
        "frz-qa", order=75, promotion={"freezes": [window]}, **configuration("frz-a")
    )
    publish_app(str(variant(tmp_path, "frz-a", app="frz-a")), source)
    catalog = Catalog(Home.from_env().catalog_url)

    with pytest.raises(StageError, match=r"'frz-qa' is frozen: audit until .*--force --reason"):
        promote_app("frz-a", source, target)
    with pytest.raises(StageError, match="needs a --reason"):
        promote_app("frz-a", source, target, force=True)
    assert catalog.current("frz-a", target) is None
    assert catalog.deployments("frz-a", stage=target) == []  # refused before any attempt

    result = promote_app("frz-a", source, target, force=True, reason="hotfix 12", by="ann (CLI)")
    current = catalog.current("frz-a", target)
    assert current is not None and current.image_digest == result.image_digest
    assert current.started_by == "ann (CLI)"
    assert current.override is not None
    assert current.override.startswith("frozen: audit until ")
    assert current.override.endswith("; forced: hotfix 12")
    assert isinstance(Stage.load(target), Stage)


def test_a_failed_eligible_promotion_fails_the_run_and_approval_still_applies(
    published_libraries: Path, stage_block: Callable[..., str], tmp_path: Path
) -> None:
    source = stage_block("appr-dev", order=76, **configuration("appr-a"))
    target = stage_block(
        "appr-qa",
        order=77,
        requires_approval=True,
        promotion={"source": source},
        **configuration("appr-a"),
    )
    publish_app(str(variant(tmp_path, "appr-a", app="appr-a")), source)

    state = promote_stage(target, approval_timeout=2, return_state=True)
    assert state.is_failed()
    message = state.message or ""
    assert "1 of 1 eligible promotions into 'appr-qa' failed: appr-a:" in message
    # the promotion waited for approval: our timeout, or Prefect's when it expires first
    waited = ("nobody approved", "never resumed")
    assert any(why in message for why in waited), message
    artifact = latest_artifact("promote-appr-qa")
    assert '"outcome": "failed"' in artifact and any(why in artifact for why in waited), artifact
    assert Catalog(Home.from_env().catalog_url).deployments("appr-a", stage=target) == []


def test_two_runs_of_one_policy_at_once_promote_each_app_once(
    published_libraries: Path, stage_block: Callable[..., str], tmp_path: Path
) -> None:
    source = stage_block("twice-dev", order=78, **configuration("twice-a", "twice-b"))
    target = stage_block(
        "twice-qa", order=79, promotion={"source": source}, **configuration("twice-a", "twice-b")
    )
    releases = {
        app: publish_app(str(variant(tmp_path, app, app=app)), source)
        for app in ("twice-a", "twice-b")
    }
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(promote_stage, target, return_state=True) for _ in range(2)]
        states = [run.result() for run in runs]
    assert all(state.is_completed() for state in states), [s.message for s in states]
    catalog = Catalog(Home.from_env().catalog_url)
    for app, release in releases.items():
        attempts = catalog.deployments(app, stage=target)
        assert {a.phase.value for a in attempts} == {"succeeded"}, attempts
        current = catalog.current(app, target)
        assert current is not None and current.image_digest == release.image_digest


def test_a_scheduled_run_killed_mid_promotion_leaves_the_target_serving_and_a_rerun_converges(
    published_libraries: Path, stage_block: Callable[..., str], tmp_path: Path
) -> None:
    source = stage_block("kill-dev", order=81, **configuration("expenses"))
    target = stage_block(
        "kill-qa", order=82, promotion={"source": source}, **configuration("expenses")
    )
    publish_app(str(variant(tmp_path, "v1")), source)
    [row] = promote_stage(target)
    first = Catalog(Home.from_env().catalog_url).current("expenses", target)
    assert row["outcome"] == "promoted" and first is not None and first.url
    second = publish_app(str(variant(tmp_path, "v2", version="1.1.0", phone=True)), source)

    lock = lock_stage_database(published_libraries, target)  # holds it in its scripts
    env = {**os.environ, "ONECLICK_LEASE_TTL": LEASE_TTL}
    script = f"from flows.promote_stage import promote_stage; promote_stage({target!r})"
    killed = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        wait_for(
            lambda: deployments(stage=target)[0].phase is Phase.RUNNING,
            what="the scheduled promotion to start rolling out",
        )
    finally:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(30)
        lock.rollback()
        lock.close()
    assert ready(first.url), "the release the target ran stopped serving"

    [row] = promote_stage(target)  # waits out the killed run's lease, then converges
    assert row == {
        "app": "expenses",
        "from release": first.version,
        "to release": second.version,
        "outcome": "promoted",
        "reason": "",
    }
    attempts = deployments(stage=target)
    assert [a.phase for a in attempts[:3]] == [Phase.SUCCEEDED, Phase.ABORTED, Phase.SUCCEEDED]
    assert attempts[0].image_digest == second.image_digest
