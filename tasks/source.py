"""The task that fetches a pushed commit for a publish started by the relay."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from oneclick.errors import BuildError
from oneclick.home import Home
from oneclick.relay.checkout import checkout, hide_credentials, model_directory


@task(name="check out source", cache_policy=NO_CACHE)
def checkout_source(repository: str, commit: str, path: str, home: Home) -> str:
    """The model directory ``path`` of ``commit`` of ``repository``, on this machine."""
    directory = model_directory(checkout(repository, commit, home.sources), path)
    get_run_logger().info(
        "checked out %s of %s: %s", commit[:12], hide_credentials(repository), directory
    )
    return str(directory)


def require_commit(source_revision: str | None) -> str:
    if not source_revision:
        raise BuildError("publishing from a repository needs source_revision: the commit to build")
    return source_revision
