"""rollback_app: a stage back to a release it ran before (or any recorded release). The
release's own image, the stage's configuration; the database is brought to that release's
model by the same rules as a publish: what the newer release added is kept (retired, made
nullable), nothing is dropped, and a change that would lose data is refused.

A rollback pins the app on the stage: scheduled promotions skip it until a person lifts
the pin (``oneclick unpin``) or deploys another release there themselves."""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.rollout import ROLLOUT_HOOKS, roll_out, started_by
from flows.stages import StageName, load_stage
from flows.workspace import open_home
from oneclick.releases import Catalog, Pins
from oneclick.rollout import RolloutResult
from tasks.catalog import find_rollback_release


@flow(name="rollback-app", **ROLLOUT_HOOKS)
def rollback_app(
    app: str, stage: StageName = "development", to: str | None = None, by: str | None = None
) -> RolloutResult:
    """Deploy to ``stage`` the release it ran before the current one, or release ``to``.

    Args:
        app: The app to roll back.
        stage: The stage to roll back; the app stays pinned there against scheduled promotions.
        to: A release version (or unique prefix). Empty: the release the stage ran before.
        by: Who asked, as the catalog records it. Empty: how the run was started.
    """
    home = open_home()
    config = load_stage(stage, home)
    release = find_rollback_release(app, stage, to, home)
    who = started_by(by)
    result = roll_out(release, config, home, "rolled back on", by=who)
    pin = Pins(Catalog(home.catalog_url)).pin(app, stage, release.version, "by rollback", who)
    get_run_logger().info(
        "%s is %s: scheduled promotions skip it until `oneclick unpin %s --stage %s`",
        app,
        pin,
        app,
        stage,
    )
    return result
