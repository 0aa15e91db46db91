"""Which runtime serves a stage, and where that runtime finds a release's image.

``check_image(reference, stage)`` fails at once when the stage's runtime cannot reach a
release's image. ``stage_runtime(stage, home)`` is the ``Runtime`` of a stage
configuration: ``local`` processes under the oneclick home, Deployments of a ``kubernetes``
cluster, or ``docker`` containers of the stage's engine (the directory of a SQLite stage
database is mounted into them, at the same path, so the app and the database scripts share
the file). ``locate_image(reference, stage, home)`` turns the image a release recorded into
what that runtime reads: the local runtime runs from an OCI layout, so a registry image is
pulled into the home's layout first (by digest, verified); container runtimes pull registry
references themselves and cannot run layout images.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from oneclick.errors import DeployError
from oneclick.home import Home
from oneclick.runtimes.local import LocalRuntime

if TYPE_CHECKING:
    from oneclick.registry import RegistryConfig
    from oneclick.runtimes.types import Runtime
    from oneclick.stages import StageConfig


def registry_auth(registry: RegistryConfig | None) -> dict[str, str] | None:
    """The engine's ``auth_config`` for ``registry`` (None for an open one)."""
    if registry is None or not registry.username or registry.password is None:
        return None
    return {"username": registry.username, "password": registry.password.get_secret_value()}


def sqlite_directory(url: str) -> str | None:
    """The directory of a SQLite database file URL; None for other databases."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return str(Path(parsed.database).resolve().parent)


def stage_runtime(stage: StageConfig, home: Home) -> Runtime:
    """The runtime that runs apps on ``stage``."""
    if stage.runtime == "docker":
        from oneclick.runtimes.docker import DockerRuntime

        config = stage.docker
        directory = sqlite_directory(stage.database_url_for("app"))
        if directory is not None and directory not in config.volumes:
            Path(directory).mkdir(parents=True, exist_ok=True)
            config = config.model_copy(update={"volumes": (*config.volumes, directory)})
        return DockerRuntime(config, auth=registry_auth(stage.registry))
    if stage.runtime == "kubernetes":
        from oneclick.runtimes.kubernetes.runtime import KubernetesRuntime

        return KubernetesRuntime(stage.kubernetes, registry=stage.registry)
    return LocalRuntime(home.runtime)


def check_image(reference: str, stage: StageConfig) -> None:
    """Fail at once, touching nothing, if ``stage``'s runtime cannot reach image
    ``reference`` (a layout image for a container runtime, a registry the stage lacks)."""
    from oneclick.images.reading import SCHEME

    in_layout = reference.startswith(SCHEME)
    if stage.runtime in ("docker", "kubernetes"):
        if in_layout:
            raise DeployError(
                f"stage {stage.name!r} runs containers ({stage.runtime}), and this release's "
                f"image is in this "
                f"machine's OCI layout ({reference}): give the stage that publishes it a "
                "registry (the stage block's 'registry') and publish again"
            )
        return
    if in_layout:
        return
    registry = stage.registry
    host = reference.split("/", 1)[0]
    if registry is None or registry.host != host:
        raise DeployError(
            f"this release's image is in the registry {host}, and stage {stage.name!r} "
            f"{'has no registry' if registry is None else 'uses ' + registry.host}: set the "
            f"stage's registry to a 'oneclick Registry' block for {host}"
        )


def locate_image(reference: str, stage: StageConfig, home: Home) -> tuple[Path, str | None]:
    """(OCI layout root, engine reference) of image ``reference`` for ``stage``'s runtime."""
    check_image(reference, stage)
    if stage.runtime in ("docker", "kubernetes"):
        return home.images, reference
    from oneclick.images.pull import pull_to_layout
    from oneclick.images.reading import SCHEME, parse_reference
    from oneclick.registry import RegistryClient

    if reference.startswith(SCHEME):
        return parse_reference(reference)[0], None
    assert stage.registry is not None  # check_image made sure
    with RegistryClient(stage.registry) as client:
        pulled = pull_to_layout(client, reference, home.images)
    return parse_reference(pulled)[0], None
