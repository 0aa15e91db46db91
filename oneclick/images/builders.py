"""Choosing the image builder for a publish: an OCI layout, or a registry's builder.

``image_builder(registry, layout)`` is what a flow calls: no registry configured means the
embedded default (``LayoutImageBuilder`` writing into ``layout``, which the local runtime
reads); a registry whose ``builder`` is ``daemonless`` gets a ``RegistryImageBuilder`` that
pushes there. The ``docker`` builder needs a Docker engine, which the registry does not name:
the caller builds it with ``oneclick.images.docker_backend`` and the stage's engine URL.
"""

from __future__ import annotations

from pathlib import Path

from oneclick.errors import BuildError
from oneclick.images.daemonless import RegistryImageBuilder
from oneclick.images.layout import LayoutImageBuilder
from oneclick.images.spec import ImageBuilder
from oneclick.registry import RegistryConfig


def image_builder(registry: RegistryConfig | None, layout: Path) -> ImageBuilder:
    """The builder for ``registry`` (None: the OCI layout at ``layout``)."""
    if registry is None:
        return LayoutImageBuilder(layout)
    if registry.builder == "daemonless":
        return RegistryImageBuilder(registry)
    raise BuildError(
        f"the registry {registry.host} asks for the {registry.builder!r} builder, which "
        "needs a Docker engine: build with oneclick.images.docker_backend.DockerImageBuilder "
        "and the engine's URL, or set builder to 'daemonless'"
    )
