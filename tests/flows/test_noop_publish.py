"""Publishing what a stage already serves changes nothing: no build, no DDL, no restart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flows.configure_app import apply_configuration
from flows.publish_app import publish_app
from oneclick.releases import Phase
from oneclick.runtimes import LocalRuntime
from tests.flows.rollout_support import deployments, ready
from tests.flows.test_publish_and_promote import task_names
from tests.support import EXAMPLES, SECRET, latest_artifact


def test_republishing_what_a_stage_serves_keeps_the_instance(
    published_libraries: Path, stage_block: Callable[..., str]
) -> None:
    settings = {"expenses": {"ApprovalLimit": "10", "CurrencySymbol": "€"}}
    secrets = {"expenses": {"PaymentsApiKey": SECRET}}
    stage = stage_block("steady", order=14, settings=settings, secrets=secrets)
    runtime = LocalRuntime(published_libraries / "runtime")
    first = publish_app(str(EXAMPLES / "expenses"), stage)
    before = runtime.status(stage, "expenses")
    again = publish_app(str(EXAMPLES / "expenses"), stage, return_state=True)
    result = again.result()
    after = runtime.status(stage, "expenses")
    assert result.unchanged and not first.unchanged
    assert before is not None and after is not None
    assert (after.pid, after.url, after.started_at) == (before.pid, before.url, before.started_at)
    assert result.url == first.url and ready(result.url)
    assert result.schema_changes == []
    ran = task_names(str(again.state_details.flow_run_id))
    assert "build image" not in ran and "run database scripts" not in ran
    assert "deploy image" not in ran and "compile app" in ran
    latest = deployments(stage=stage)[0]
    assert latest.phase is Phase.SUCCEEDED and (latest.message or "").startswith("unchanged")
    assert "unchanged on" in latest_artifact(f"expenses-{stage}-release")

    changed = {"expenses": {"ApprovalLimit": "20", "CurrencySymbol": "€"}}
    stage_block(stage, order=14, settings=changed, secrets=secrets)
    reconfigured = apply_configuration("expenses", stage)
    assert not reconfigured.unchanged
    moved = runtime.status(stage, "expenses")
    assert moved is not None and moved.pid != after.pid
