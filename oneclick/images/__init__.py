"""Container images of compiled apps: build them, name them by digest, read them back.

``ImageBuilder`` is the interface every backend meets (``build(ImageSpec) -> ImageResult``);
``LayoutImageBuilder`` writes into an OCI image layout directory without any daemon;
``RegistryImageBuilder`` builds onto a runtime base image and pushes to an OCI registry;
``image_builder(registry, layout)`` picks between them for a publish.
``open_image``, ``image_config``, ``resolve_tag`` and ``unpack_image`` read layout images;
``pull_to_layout`` copies a registry image into a layout.
"""

from __future__ import annotations

from oneclick.images.base import BaseFactory, BaseLayer, embedded_base
from oneclick.images.builders import image_builder
from oneclick.images.daemonless import RegistryImageBuilder
from oneclick.images.layout import LayoutImageBuilder
from oneclick.images.pull import pull_to_layout
from oneclick.images.reading import (
    LayoutImage,
    format_reference,
    image_config,
    open_image,
    parse_reference,
    resolve_tag,
)
from oneclick.images.spec import ImageBuilder, ImageResult, ImageSpec
from oneclick.images.unpack import unpack_image

__all__ = [
    "BaseFactory",
    "BaseLayer",
    "ImageBuilder",
    "ImageResult",
    "ImageSpec",
    "LayoutImage",
    "LayoutImageBuilder",
    "RegistryImageBuilder",
    "embedded_base",
    "format_reference",
    "image_builder",
    "image_config",
    "open_image",
    "parse_reference",
    "pull_to_layout",
    "resolve_tag",
    "unpack_image",
]
