"""Tasks that touch a stage: plan and apply its database schema, deploy a release to it."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from oneclick.compiler.schema import app_metadata
from oneclick.data import SchemaPlan, SchemaResult, apply_schema, plan_schema
from oneclick.errors import LibraryImpactError
from oneclick.home import Home
from oneclick.libraries import library_store
from oneclick.libraries.consumers import stage_impact
from oneclick.model.types import AppModel
from oneclick.releases import Catalog, ReleaseView
from oneclick.rollout import deploy_request
from oneclick.runtimes import DeployResult
from oneclick.runtimes.select import locate_image, stage_runtime
from oneclick.runtimes.types import AbortCheck, HoldCheck
from oneclick.stages import StageConfig
from tasks.report import publish_plan
from tasks.retry import RETRY


@task(name="plan database scripts", cache_policy=NO_CACHE, **RETRY)
def plan_stage_schema(
    release: ReleaseView, stage: StageConfig, home: Home | None = None
) -> SchemaPlan:
    """Plan the stage database's scripts. With ``home``, first the impact check: a library
    version the release takes (compared with what the stage runs) that removes records the
    app still uses refuses the release here, before anything is touched."""
    logger = get_run_logger()
    url = stage.database_url_for(release.app)
    impact = None
    if home is not None:
        impact = stage_impact(
            Catalog(home.catalog_url), library_store(home), release, stage.name, url
        )
        for taken in impact.changes if impact else []:
            logger.info("takes %s on %s", taken, stage.name)
        if impact is not None and impact.blocked:
            publish_plan(release, stage.name, None, impact)
            raise LibraryImpactError(impact.message(f"{release.app} {release.version}"))
    model = AppModel.model_validate(release.model)
    plan = plan_schema(url, app_metadata(model), release.schema_fingerprint)
    if plan.up_to_date:
        logger.info("%s database of %s is up to date", stage.name, release.app)
    for change in plan.changes:
        logger.info("planned on %s: %s", stage.name, change)
    publish_plan(release, stage.name, plan, impact)
    return plan


@task(name="run database scripts", cache_policy=NO_CACHE, **RETRY)
def apply_stage_schema(
    release: ReleaseView, stage: StageConfig, plan: SchemaPlan | None = None
) -> SchemaResult:
    """Run the scripts of ``plan`` (refused if the database moved since it was made)."""
    model = AppModel.model_validate(release.model)
    url = stage.database_url_for(release.app)
    result = apply_schema(
        url,
        app_metadata(model),
        release.schema_fingerprint,
        app=release.app,
        release=release.version,
        plan=plan,
    )
    get_run_logger().info(
        "%s database of %s: %d change(s) in %.2fs%s",
        stage.name,
        release.app,
        len(result.changes),
        result.seconds,
        " (fingerprint matched, no schema scan)" if result.fast_path else "",
    )
    return result


@task(name="deploy image", cache_policy=NO_CACHE)
def deploy_to_stage(
    release: ReleaseView,
    stage: StageConfig,
    home: Home,
    hold: HoldCheck | None = None,
    abort: AbortCheck | None = None,
) -> DeployResult:
    """Start the release's image on the stage; it replaces the previous instance once ready
    and ``hold`` is off. Secrets go from the stage config to the process environment here
    and nowhere else (never through a task or flow parameter)."""
    image = locate_image(release.image_reference, stage, home)
    request = deploy_request(
        release,
        stage,
        image,
        hold or (lambda: False),
        abort or (lambda: None),
        on_progress=get_run_logger().info,
        flow_run=flow_run.get_id(),
    )
    return stage_runtime(stage, home).deploy(request)
