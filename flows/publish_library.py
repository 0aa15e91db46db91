"""publish_library: model → compiled library → the library store (immutable, versioned)."""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from pydantic import BaseModel, ConfigDict

from flows.workspace import open_home
from tasks.build import compile_library_build, load_library_model, store_library
from tasks.source import checkout_source, require_commit


class LibraryResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    digest: str
    created: bool


@flow(name="publish-library")
def publish_library(
    path: str, repository: str | None = None, source_revision: str | None = None
) -> LibraryResult:
    """Compile the library at ``path`` and store its build; the same build again changes nothing.
    With ``repository``, ``path`` is inside commit ``source_revision`` of it.

    Args:
        path: The library's directory (holding library.yaml).
        repository: A git URL or path to check the commit out of. Empty: path is local.
        source_revision: The git commit to publish (with a repository).
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
    return LibraryResult(
        name=model.library,
        version=model.version,
        digest=stored.build.digest,
        created=stored.created,
    )
