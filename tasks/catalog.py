"""Tasks that write the release catalog."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from oneclick.compiler import CompileResult
from oneclick.errors import CatalogError
from oneclick.home import Home
from oneclick.images import ImageResult
from oneclick.model.types import AppModel
from oneclick.releases import Catalog, DeploymentView, Phase, ReleaseView
from tasks.retry import RETRY


@task(name="record release", cache_policy=NO_CACHE, **RETRY)
def record_release(
    model: AppModel,
    build: CompileResult,
    image: ImageResult,
    version: str,
    home: Home,
    source_revision: str | None = None,
) -> ReleaseView:
    release = Catalog(home.catalog_url).record_release(
        manifest=dict(build.manifest),
        model=model.model_dump(mode="json"),
        version=version,
        image_digest=image.digest,
        image_reference=image.reference,
        source_revision=source_revision,
    )
    get_run_logger().info("release %s %s -> %s", release.app, release.version, release.image_digest)
    return release


@task(name="find release", cache_policy=NO_CACHE, **RETRY)
def find_release(app: str, from_stage: str, version: str | None, home: Home) -> ReleaseView:
    catalog = Catalog(home.catalog_url)
    if version is not None:
        return catalog.release(app, version)
    current = catalog.current(app, from_stage)
    if current is None:
        raise CatalogError(
            f"{app} runs nowhere on {from_stage!r}: publish it there first, or name --version"
        )
    return catalog.release(app, current.version)


@task(name="start deployment", cache_policy=NO_CACHE, **RETRY)
def start_deployment(release: ReleaseView, stage: str, flow_run_id: str | None, home: Home) -> int:
    return Catalog(home.catalog_url).start_deployment(
        release.app, release.version, stage, flow_run_id
    )


@task(name="finish deployment", cache_policy=NO_CACHE, **RETRY)
def finish_deployment(
    deployment_id: int,
    phase: Phase,
    home: Home,
    url: str | None = None,
    schema_changes: list[str] | None = None,
    schema_script: str | None = None,
    message: str | None = None,
) -> DeploymentView:
    return Catalog(home.catalog_url).finish_deployment(
        deployment_id,
        phase,
        url=url,
        schema_changes=schema_changes or [],
        schema_script=schema_script,
        message=message,
    )


@task(name="find rollback release", cache_policy=NO_CACHE, **RETRY)
def find_rollback_release(app: str, stage: str, version: str | None, home: Home) -> ReleaseView:
    """Release ``version``, or the one ``stage`` ran before what it runs now."""
    catalog = Catalog(home.catalog_url)
    if version is not None:
        return catalog.release(app, version)
    current = catalog.current(app, stage)
    if current is None:
        raise CatalogError(
            f"{app} runs nowhere on {stage!r}: there is nothing to roll back; "
            "publish or promote it there, or name --to VERSION"
        )
    previous = catalog.previous(current)
    if previous is None:
        raise CatalogError(
            f"{app} has run only one release on {stage!r}: there is no earlier one to roll "
            "back to; name --to VERSION"
        )
    return catalog.release(app, previous.version)
