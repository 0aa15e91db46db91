"""promote_app: the same image, the next stage's configuration. No compile, no image build.

Gates, before the stage is touched: the target's configuration, its freezes (a forced
promotion goes through with who and why recorded), a person's approval on a protected
stage. A person's promotion lifts a rollback's pin; a scheduled one never runs on a pinned app.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow, get_run_logger

from flows.approval import wait_for_approval
from flows.rollout import ROLLOUT_HOOKS, roll_out, started_by
from flows.stages import StageName, load_stage
from flows.workspace import open_home
from oneclick.errors import StageError
from oneclick.policies import active_freeze
from oneclick.releases import Catalog, Pins
from oneclick.rollout import RolloutResult
from oneclick.stages import StageConfig
from tasks.catalog import find_release


def freeze_gate(target: StageConfig, force: bool, reason: str | None) -> str | None:
    """None when the stage is open; the override to record when a frozen stage is forced.
    Raises when it is frozen and not forced (or forced without a reason)."""
    frozen = active_freeze(target.promotion, datetime.now(UTC))
    if frozen is None:
        return None
    if not force:
        raise StageError(
            f"stage {target.name!r} is {frozen}: promotions into it are refused; wait, "
            "unfreeze it (oneclick unfreeze), or force this one with --force --reason WHY"
        )
    if not (reason or "").strip():
        raise StageError(f"forcing a promotion into frozen {target.name!r} needs a --reason")
    get_run_logger().warning("%s is %s; forced: %s", target.name, frozen, reason)
    return f"{frozen}; forced: {reason}"


@flow(name="promote-app", **ROLLOUT_HOOKS)
def promote_app(
    app: str,
    from_stage: StageName = "development",
    to_stage: StageName = "qa",
    version: str | None = None,
    approval_timeout: int = 24 * 3600,
    force: bool = False,
    reason: str | None = None,
    by: str | None = None,
    scheduled: bool = False,
) -> RolloutResult:
    """Deploy what ``from_stage`` runs (or release ``version``) to ``to_stage``. A stage that
    requires approval waits up to ``approval_timeout`` seconds for a person's answer. A
    frozen stage refuses it unless ``force`` with a ``reason``; ``by`` names who asked.

    Args:
        app: The app to promote.
        from_stage: The stage whose release is promoted (the same image).
        to_stage: The stage to deploy it to, with that stage's configuration.
        version: A release version (or unique prefix) that succeeded on from_stage. Empty:
            what from_stage runs now.
        approval_timeout: Seconds to wait for a person's approval, on a stage that requires it.
        force: Promote into a frozen stage (needs a reason; both are recorded).
        reason: Why a frozen stage is forced.
        by: Who asked, as the catalog records it. Empty: how the run was started.
        scheduled: Set by promote-stage: a scheduled promotion leaves a rollback's pin alone.
    """
    home = open_home()
    target = load_stage(to_stage, home)
    release = find_release(app, from_stage, version, home)
    target.environment(release.manifest)  # a stage lacking configuration fails before approval
    override = freeze_gate(target, force, reason)
    if target.requires_approval:
        wait_for_approval(release, to_stage, approval_timeout)
    who = started_by(by)
    result = roll_out(
        release, target, home, "promoted to", by=who, override=override, check_libraries=True
    )
    if not scheduled and Pins(Catalog(home.catalog_url)).unpin(app, to_stage):
        get_run_logger().info("%s on %s is unpinned: %s promoted it", app, to_stage, who)
    return result
