"""promote_app: the same image, the next stage's configuration. No compile, no image build."""

from __future__ import annotations

from prefect import flow

from flows.approval import wait_for_approval
from flows.rollout import ROLLOUT_HOOKS, roll_out
from flows.stages import StageName, load_stage
from oneclick.home import Home
from oneclick.rollout import RolloutResult
from tasks.catalog import find_release


@flow(name="promote-app", **ROLLOUT_HOOKS)
def promote_app(
    app: str,
    from_stage: StageName = "development",
    to_stage: StageName = "qa",
    version: str | None = None,
    approval_timeout: int = 24 * 3600,
) -> RolloutResult:
    """Deploy what ``from_stage`` runs (or release ``version``) to ``to_stage``. A stage that
    requires approval waits up to ``approval_timeout`` seconds for a person's answer."""
    home = Home.from_env().ensure()
    target = load_stage(to_stage, home)
    release = find_release(app, from_stage, version, home)
    target.environment(release.manifest)  # a stage lacking configuration fails before approval
    if target.requires_approval:
        wait_for_approval(release, to_stage, approval_timeout)
    return roll_out(release, target, home, "promoted to")
