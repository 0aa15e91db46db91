"""Which image a docker stage runs a release from: the release's image reference, pulled by
digest from its registry (with the stage's registry credentials) when the engine lacks it."""

from __future__ import annotations

import docker
import docker.errors

from oneclick.errors import DeployError
from oneclick.runtimes.types import DeployRequest, ProgressCallback


def find_image(
    client: docker.DockerClient,
    request: DeployRequest,
    progress: ProgressCallback,
    auth: dict[str, str] | None,
) -> str:
    """The image to run, pulled by digest from its registry if the engine lacks it."""
    reference = request.image_reference
    if not reference:
        raise DeployError(
            f"cannot deploy {request.app} {request.release} to {request.stage}: the docker "
            "runtime runs images from a registry or an engine, and the release names "
            "neither (no image reference); build it with a registry or the Docker backend"
        )
    try:
        client.images.get(reference)
        return reference
    except docker.errors.ImageNotFound:
        pass
    if "@sha256:" not in reference:
        raise DeployError(
            f"cannot deploy {request.app} {request.release} to {request.stage}: image "
            f"{reference} is not in the engine and is not a registry reference pinned by "
            "digest; rebuild the release or point the stage at the engine that built it"
        )
    progress(f"pulling {reference}")
    repository, _, digest = reference.partition("@")
    try:
        client.images.pull(repository, tag=digest, auth_config=auth)
    except docker.errors.APIError as exc:
        raise DeployError(
            f"cannot deploy {request.app} {request.release} to {request.stage}: the "
            f"engine could not pull {reference}: {exc.explanation or exc}"
        ) from exc
    return reference
