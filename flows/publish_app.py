"""publish_app: model → compiled app → image → release → the stage (schema ║ deploy).

Each run compiles in a scratch directory of its own. A build the stage already runs is not
built again: the rollout engine finds it serving and changes nothing."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.forms import offer_in_forms
from flows.rollout import ROLLOUT_HOOKS, roll_out
from flows.stages import StageName, load_stage
from flows.workspace import open_home
from oneclick.rollout import RolloutResult
from tasks.build import (
    build_image,
    compile_app_build,
    load_app_model,
    release_version,
    resolve_libraries,
)
from tasks.catalog import find_running_release, record_release
from tasks.source import checkout_source, require_commit


@flow(name="publish-app", log_prints=False, **ROLLOUT_HOOKS)
def publish_app(
    path: str,
    stage: StageName = "development",
    source_revision: str | None = None,
    repository: str | None = None,
    by: str | None = None,
) -> RolloutResult:
    """Publish the app whose model is at ``path`` (a directory holding app.yaml) to ``stage``.
    With ``repository`` (a git URL or path), ``path`` is inside commit ``source_revision`` of
    it, which is checked out first (as runs started by a git push do).

    Args:
        path: The app's directory (holding app.yaml), on the worker or inside the repository.
        stage: The stage to publish to.
        source_revision: The git commit to publish (with a repository); recorded with the
            release. Empty: the working copy at path.
        repository: A git URL or path to check the commit out of. Empty: path is local.
        by: Who asked, as the catalog records it. Empty: how the run was started.
    """
    home = open_home()
    stage_config = load_stage(stage, home)
    source = (path if repository else str(Path(path).resolve()), repository or None)
    if repository:
        path = checkout_source(repository, require_commit(source_revision), path, home)
    model = load_app_model(path, home)
    libraries = resolve_libraries(model, home)
    with home.scratch(model.app) as scratch:
        build = compile_app_build(model, libraries, scratch)
        version = release_version(model, build)
        release = find_running_release(model.app, version, stage, home)
        if release is None:
            image = build_image(model, build, libraries, home, stage_config.registry)
            release = record_release(model, build, image, version, home, source_revision, source)
    result = roll_out(release, stage_config, home, "published to", by=by, check_libraries=True)
    offer_in_forms(model.app)
    return result
