"""Container images of compiled apps: build them, name them by digest, read them back.

``ImageBuilder`` is the interface every backend meets (``build(ImageSpec) -> ImageResult``);
``LayoutImageBuilder`` writes into an OCI image layout directory without any daemon.
``open_image``, ``image_config``, ``resolve_tag`` and ``unpack_image`` read layout images.
"""

from __future__ import annotations

from oneclick.images.base import BaseFactory, BaseLayer, embedded_base
from oneclick.images.layout import LayoutImageBuilder
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
    "embedded_base",
    "format_reference",
    "image_config",
    "open_image",
    "parse_reference",
    "resolve_tag",
    "unpack_image",
]
