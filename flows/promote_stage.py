"""promote_stage: the scheduled run of a stage's promotion policy.

It decides, for every app the policy covers, whether to promote what the source stage runs
(``oneclick.policies``), then promotes every eligible app at once, each as a promote-app
subflow of its own (approval still applies on a protected stage). Every skipped app gets a
reason. The run leaves a table artifact and fails when an eligible promotion failed.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.client.schemas.objects import State

from flows.promote_app import promote_app
from flows.rollout import started_by
from flows.stages import StageName, load_stage
from flows.workspace import open_home
from oneclick.errors import DeployError, StageError
from oneclick.policies import Decision, decide
from oneclick.policies.candidates import gather
from oneclick.releases import Catalog
from oneclick.rollout import RolloutResult
from tasks.report import artifact_key

MAX_PARALLEL = 8
PREFIX = "Flow run encountered an exception: "  # what Prefect puts before the error


def _promote(
    decision: Decision, source: str, target: str, by: str, approval_timeout: int
) -> State[RolloutResult]:
    state: State[RolloutResult] = promote_app(
        decision.app,
        source,
        target,
        decision.to_version,
        approval_timeout=approval_timeout,
        by=by,
        scheduled=True,
        return_state=True,
    )
    return state


def _row(decision: Decision, outcome: str, reason: str) -> dict[str, str]:
    return {
        "app": decision.app,
        "from release": decision.from_version or "-",
        "to release": decision.to_version or "-",
        "outcome": outcome,
        "reason": reason,
    }


@flow(name="promote-stage")
def promote_stage(stage: StageName, approval_timeout: int = 24 * 3600) -> list[dict[str, str]]:
    """Promote into ``stage`` every app its promotion policy makes eligible now. On a stage
    that requires approval, each promotion waits up to ``approval_timeout`` seconds.

    Args:
        stage: The stage to promote into; its block's promotion policy names the source.
        approval_timeout: Seconds each promotion waits for a person's approval, on a stage
            that requires it.
    """
    logger = get_run_logger()
    home = open_home()
    target = load_stage(stage, home)
    policy = target.promotion
    if not policy.source:
        raise StageError(
            f"stage {stage!r} has no promotion source: set promotion.source in its "
            "'oneclick Stage' block (the stage it takes releases from)"
        )
    load_stage(policy.source, home)  # an unknown source fails here, naming the stages
    decisions = decide(policy, gather(Catalog(home.catalog_url), policy.source, target), _now())
    eligible = [d for d in decisions if d.promote]
    rows = {d.app: _row(d, "skipped", d.reason) for d in decisions if not d.promote}
    for row in rows.values():
        logger.info("%s: skipped, %s", row["app"], row["reason"])
    by = f"{started_by()}: promote-stage {stage}"
    if eligible:
        logger.info("promoting %s", ", ".join(f"{d.app} {d.to_version}" for d in eligible))
        with ThreadPoolExecutor(min(MAX_PARALLEL, len(eligible))) as pool:
            futures = {
                d.app: (
                    d,
                    pool.submit(
                        copy_context().run, _promote, d, policy.source, stage, by, approval_timeout
                    ),
                )
                for d in eligible
            }
            for app, (decision, future) in futures.items():
                state = future.result()
                done = state.is_completed()
                why = "" if done else (state.message or state.name or "").removeprefix(PREFIX)
                rows[app] = _row(decision, "promoted" if done else "failed", why)
    table = [rows[app] for app in sorted(rows)]
    _summary(stage, policy.source, table)
    failed = [row for row in table if row["outcome"] == "failed"]
    if failed:
        raise DeployError(
            f"{len(failed)} of {len(eligible)} eligible promotions into {stage!r} failed: "
            + "; ".join(f"{row['app']}: {row['reason']}" for row in failed)
        )
    return table


def _now() -> datetime:
    return datetime.now(UTC)


def _summary(stage: str, source: str, table: list[dict[str, Any]]) -> None:
    promoted = sum(row["outcome"] == "promoted" for row in table)
    create_table_artifact(
        table=table,
        key=artifact_key("promote", stage),
        description=f"# {source} → {stage}: {promoted} promoted, {len(table) - promoted} not",
    )
