"""apply_configuration: what a stage runs, rolled again with the stage's current settings and
secrets. No compile, no build, no new release: the same image; the database step is the
fast path unless the stage database is behind."""

from __future__ import annotations

from prefect import flow

from flows.rollout import ROLLOUT_HOOKS, roll_out
from flows.stages import StageName, load_stage
from flows.workspace import open_home
from oneclick.rollout import RolloutResult
from tasks.catalog import find_release


@flow(name="apply-configuration", **ROLLOUT_HOOKS)
def apply_configuration(app: str, stage: StageName = "development") -> RolloutResult:
    """Roll the release ``stage`` runs of ``app`` with the stage block's settings and secrets
    as they are now (after editing them in the block).

    Args:
        app: The app whose configuration changed.
        stage: The stage whose block's settings or secrets changed.
    """
    home = open_home()
    config = load_stage(stage, home)
    release = find_release(app, stage, None, home)
    return roll_out(release, config, home, "reconfigured on")
