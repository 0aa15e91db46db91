"""Reading images back out of an OCI image layout: references, manifests, configs.

A layout image is named either by a reference string ``oci-layout:<absolute dir>@sha256:<hex>``
(what ``ImageResult.reference`` holds) or by a ``(root, digest)`` pair. ``open_image`` reads
and checks the manifest and the config (each blob against its digest, media types, one
diff_id per layer) and returns them as a ``LayoutImage``; ``image_config`` is the shortcut
for the config alone; ``resolve_tag`` turns ``repository`` + ``tag`` into a digest.
A missing, damaged or unexpected image is a ``BuildError`` that says which and where.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from oneclick.errors import BuildError
from oneclick.images.spec import (
    CONFIG_MEDIA_TYPE,
    LAYER_MEDIA_TYPE,
    LAYER_TAR_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE,
)
from oneclick.images.store import LayoutStore, check_digest

SCHEME = "oci-layout:"
LAYER_MEDIA_TYPES = (LAYER_MEDIA_TYPE, LAYER_TAR_MEDIA_TYPE)


class LayoutImage(BaseModel):
    """One image of a layout: its manifest and config as read (and checked) from disk."""

    model_config = ConfigDict(frozen=True)

    root: Path
    digest: str
    manifest: dict[str, Any]
    config: dict[str, Any]

    @property
    def layers(self) -> list[dict[str, Any]]:
        """The manifest's layer descriptors, base first."""
        return list(self.manifest["layers"])

    @property
    def diff_ids(self) -> list[str]:
        return list(self.config["rootfs"]["diff_ids"])

    @property
    def reference(self) -> str:
        return format_reference(self.root, self.digest)


def format_reference(root: Path, digest: str) -> str:
    """``oci-layout:<absolute root>@<digest>``."""
    return f"{SCHEME}{root.absolute()}@{check_digest(digest)}"


def parse_reference(reference: str) -> tuple[Path, str]:
    """The (layout root, manifest digest) a reference string names."""
    location, _, digest = reference.removeprefix(SCHEME).rpartition("@")
    if not reference.startswith(SCHEME) or not location or not Path(location).is_absolute():
        raise BuildError(
            f"expected an image reference like {SCHEME}/absolute/dir@sha256:<hex>, "
            f"found {reference!r}"
        )
    return Path(location), check_digest(digest)


def open_image(image: str | tuple[Path, str]) -> LayoutImage:
    """Read the manifest and config of ``image`` (a reference or a (root, digest) pair)."""
    root, digest = parse_reference(image) if isinstance(image, str) else image
    store = LayoutStore(root)
    store.check()
    manifest = store.read_json(check_digest(digest))
    where = f"image {digest} in {store.root}"
    if manifest.get("mediaType", MANIFEST_MEDIA_TYPE) != MANIFEST_MEDIA_TYPE:
        raise BuildError(
            f"{where}: expected an OCI image manifest ({MANIFEST_MEDIA_TYPE}), "
            f"found {manifest.get('mediaType')!r}"
        )
    descriptor = manifest.get("config")
    if not isinstance(descriptor, dict) or descriptor.get("mediaType") != CONFIG_MEDIA_TYPE:
        raise BuildError(f"{where}: expected a config descriptor of type {CONFIG_MEDIA_TYPE}")
    config = store.read_json(str(descriptor.get("digest")))
    layers = manifest.get("layers")
    diff_ids = config.get("rootfs", {}).get("diff_ids")
    if not isinstance(layers, list) or not isinstance(diff_ids, list):
        raise BuildError(f"{where}: expected a list of layers and a list of diff_ids")
    if len(layers) != len(diff_ids):
        raise BuildError(
            f"{where}: expected one diff_id per layer, found {len(layers)} layers "
            f"and {len(diff_ids)} diff_ids"
        )
    for layer in layers:
        if layer.get("mediaType") not in LAYER_MEDIA_TYPES:
            raise BuildError(
                f"{where}: expected layers of type {' or '.join(LAYER_MEDIA_TYPES)}, "
                f"found {layer.get('mediaType')!r}"
            )
        check_digest(str(layer.get("digest")))
    return LayoutImage(root=store.root, digest=digest, manifest=manifest, config=config)


def image_config(root: Path, digest: str) -> dict[str, Any]:
    """The config document of the image ``digest`` in the layout at ``root``."""
    return open_image((root, digest)).config


def resolve_tag(root: Path, repository: str, tag: str) -> str:
    """The manifest digest tagged ``<repository>:<tag>`` in the layout at ``root``."""
    return LayoutStore(root).resolve(f"{repository}:{tag}")
