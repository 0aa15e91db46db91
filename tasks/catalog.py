"""Tasks that write the release catalog."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import INPUTS, NO_CACHE, RUN_ID, TASK_SOURCE

from oneclick.compiler import CompileResult
from oneclick.errors import CatalogError
from oneclick.home import Home
from oneclick.images import ImageResult
from oneclick.model.types import AppModel
from oneclick.releases import Catalog, ReleaseView
from tasks.retry import RETRY


@task(name="record release", cache_policy=NO_CACHE, **RETRY)
def record_release(
    model: AppModel,
    build: CompileResult,
    image: ImageResult,
    version: str,
    home: Home,
    source_revision: str | None = None,
    source: tuple[str, str | None] | None = None,
) -> ReleaseView:
    """Record the release; ``source`` is (model path, repository) it was published from."""
    path, repository = source or (None, None)
    release = Catalog(home.catalog_url).record_release(
        manifest=dict(build.manifest),
        model=model.model_dump(mode="json"),
        version=version,
        image_digest=image.digest,
        image_reference=image.reference,
        source_revision=source_revision,
        source_path=path,
        source_repository=repository,
    )
    get_run_logger().info("release %s %s -> %s", release.app, release.version, release.image_digest)
    return release


# Within one flow run, the first answer stands: a promotion that suspended for a person's
# approval and resumed (on any worker, with the workspace as result storage) promotes the
# release that person approved, even if the source stage has run a newer one since.
ONCE_PER_RUN = RUN_ID + TASK_SOURCE + (INPUTS - "home")


@task(name="find release", cache_policy=ONCE_PER_RUN, persist_result=True, **RETRY)
def find_release(app: str, from_stage: str, version: str | None, home: Home) -> ReleaseView:
    """What ``from_stage`` runs, or release ``version`` if it succeeded there."""
    return Catalog(home.catalog_url).promotable(app, from_stage, version)


@task(name="find running release", cache_policy=NO_CACHE, **RETRY)
def find_running_release(app: str, version: str, stage: str, home: Home) -> ReleaseView | None:
    """Release ``version`` when it is what ``stage`` runs now: a publish of it needs no build."""
    catalog = Catalog(home.catalog_url)
    current = catalog.current(app, stage)
    if current is None or current.version != version:
        return None
    get_run_logger().info("%s %s is what %s runs: no image to build", app, version, stage)
    return catalog.release(app, version)


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
