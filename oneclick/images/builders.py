"""Choosing the image builder for a publish: an OCI layout, or a registry's builder.

``image_builder(registry, layout)`` is what a flow calls: no registry configured means the
embedded default (``LayoutImageBuilder`` writing into ``layout``, which the local runtime
reads); a registry whose ``builder`` is ``daemonless`` gets a ``RegistryImageBuilder`` that
pushes there; ``docker`` gets a ``DockerImageBuilder`` on the registry's ``engine_url``.
"""

from __future__ import annotations

from pathlib import Path

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
    from oneclick.images.docker_backend import DockerImageBuilder, connect_engine

    return DockerImageBuilder(connect_engine(registry.engine_url), registry=registry)
