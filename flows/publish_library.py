"""publish_library: model → compiled library → the library store (immutable, versioned) →
a report of its consumers: for each app using the library, on each stage, whether its range
takes the new version and what that would block there (a table artifact; never blocking)."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from pydantic import BaseModel, ConfigDict

from blocks.git_source import updates_consumers
from flows.stages import load_stage, stage_names
from flows.update_consumers import update_consumers as update_consumers_flow
from flows.workspace import open_home
from tasks.build import compile_library_build, load_library_model, store_library
from tasks.consumers import report_consumers
from tasks.source import checkout_source, require_commit


class LibraryResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    digest: str
    created: bool
    consumers: list[dict[str, str]] = []


@flow(name="publish-library")
def publish_library(
    path: str,
    repository: str | None = None,
    source_revision: str | None = None,
    update_consumers: bool = False,
    git_source: str | None = None,
) -> LibraryResult:
    """Compile the library at ``path`` and store its build; the same build again changes nothing.
    With ``repository``, ``path`` is inside commit ``source_revision`` of it. Then report its
    consumers; with ``update_consumers`` (or a git source block that says so), publish them
    again (the update-consumers flow, whose failures leave this publish done).

    Args:
        path: The library's directory (holding library.yaml).
        repository: A git URL or path to check the commit out of. Empty: path is local.
        source_revision: The git commit to publish (with a repository).
        update_consumers: Then publish again every app whose range admits this version.
        git_source: The Git Source block whose push started this run (set by its trigger);
            its update_consumers setting applies too.
    """
    home = open_home()
    if repository:
        path = checkout_source(repository, require_commit(source_revision), path, home)
    model = load_library_model(path, home)
    with home.scratch(model.library) as scratch:
        build = compile_library_build(model, path, scratch)
        stored = store_library(build, home)
    entities = ", ".join(sorted(stored.build.static_entities)) or "none"
    create_markdown_artifact(
        key=f"library-{model.library}",
        markdown=(
            f"# {model.library} {model.version}\n\n"
            f"| | |\n|---|---|\n| digest | `{stored.build.digest}` |\n"
            f"| static entities | {entities} |\n"
            f"| stored | {'new' if stored.created else 'already stored, unchanged'} |\n"
        ),
        description=f"library {model.library} {model.version}",
    )
    stages = {name: load_stage(name, home) for name in stage_names()}
    consumers = report_consumers(model.library, model.version, stages, home)
    if update_consumers or (git_source and updates_consumers(git_source)):
        updated = update_consumers_flow(model.library, model.version, return_state=True)
        if not updated.is_completed():
            get_run_logger().warning("update-consumers: %s", updated.message)
    return LibraryResult(
        name=model.library,
        version=model.version,
        digest=stored.build.digest,
        created=stored.created,
        consumers=consumers,
    )
