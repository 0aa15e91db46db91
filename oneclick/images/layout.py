"""The daemonless image builder that writes into an OCI image layout directory.

``LayoutImageBuilder(root).build(spec)`` writes three layers, a config and a manifest into
the layout at ``root`` and tags the manifest ``<repository>:<tag>``:

1. the base layer (``embedded_base`` unless another ``BaseFactory`` is given),
2. the libraries layer: every library build under ``libs/<name>/`` (``libs/`` alone if none),
3. the app layer: the app build under ``app/``.

The image is reproducible: layers are deterministic (see ``oneclick.images.layers``), the
config has a fixed ``created`` time and sorted ``Env``, and JSON is written in one canonical
form, so the same spec gives the same digest from any copy of the same inputs. The config's
``Cmd`` serves ``server.main:app`` from ``/app`` on port 8080 with ``WorkingDir`` ``/app``.
The result's ``reference`` is ``oci-layout:<absolute root>@<digest>``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from oneclick.errors import BuildError
from oneclick.images.base import BaseFactory, BaseLayer, embedded_base
from oneclick.images.layers import LayerBlob, LayerEntry, collect_tree, write_layer
from oneclick.images.reading import format_reference
from oneclick.images.spec import (
    APP_COMMAND,
    APP_PORT,
    CONFIG_MEDIA_TYPE,
    LAYER_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE,
    ImageResult,
    ImageSpec,
)
from oneclick.images.store import LayoutStore, canonical_json

log = logging.getLogger(__name__)

CREATED = "1970-01-01T00:00:00Z"


class LayoutImageBuilder:
    """Builds images into the OCI image layout at ``root`` (created on first use)."""

    def __init__(self, root: Path, base: BaseFactory = embedded_base) -> None:
        self.store = LayoutStore(root)
        self._base = base

    @property
    def root(self) -> Path:
        return self.store.root

    def build(self, spec: ImageSpec) -> ImageResult:
        """Build ``spec`` into the layout and tag it; returns where the image is."""
        check_inputs(spec)
        self.store.create()
        base = self._base()
        layers = [
            self._write(base.entries()),
            self._write(library_entries(spec)),
            self._write(collect_tree(spec.app_build, "app")),
        ]
        config = build_config(spec, base, [layer.diff_id for layer in layers])
        config_bytes = canonical_json(config)
        config_digest = self.store.put_bytes(config_bytes)
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": {
                "mediaType": CONFIG_MEDIA_TYPE,
                "digest": config_digest,
                "size": len(config_bytes),
            },
            "layers": [
                {"mediaType": LAYER_MEDIA_TYPE, "digest": layer.digest, "size": layer.size}
                for layer in layers
            ],
        }
        manifest_bytes = canonical_json(manifest)
        digest = self.store.put_bytes(manifest_bytes)
        self.store.tag(
            spec.ref_name,
            {"mediaType": MANIFEST_MEDIA_TYPE, "digest": digest, "size": len(manifest_bytes)},
        )
        size = len(manifest_bytes) + len(config_bytes) + sum(layer.size for layer in layers)
        log.info("built image %s as %s in %s", spec.ref_name, digest, self.root)
        return ImageResult(
            repository=spec.repository,
            tag=spec.tag,
            digest=digest,
            reference=format_reference(self.root, digest),
            config_digest=config_digest,
            layers=[layer.digest for layer in layers],
            size=size,
        )

    def _write(self, entries: list[LayerEntry]) -> LayerBlob:
        temp = self.store.temp_file()
        try:
            blob = write_layer(entries, temp)
            self.store.put_file(temp, blob.digest)
        finally:
            temp.unlink(missing_ok=True)
        return blob


def check_inputs(spec: ImageSpec) -> None:
    if not (spec.app_build / "server" / "main.py").is_file():
        raise BuildError(
            f"expected a compiled app build at {spec.app_build} (with server/main.py), "
            "found none; compile the app first"
        )
    for name, path in spec.library_builds:
        if not path.is_dir():
            raise BuildError(
                f"expected the build of library {name} at {path}, found none; "
                "publish the library first"
            )


def library_entries(spec: ImageSpec) -> list[LayerEntry]:
    entries = [LayerEntry(path="libs", is_dir=True)]
    for name, path in sorted(spec.library_builds):
        entries.extend(collect_tree(path, f"libs/{name}"))
    return entries


def build_config(spec: ImageSpec, base: BaseLayer, diff_ids: list[str]) -> dict[str, Any]:
    """The image config document for ``spec`` on ``base`` with the given layer diff_ids."""
    env = {**base.env, **spec.env}
    libraries = ", ".join(name for name, _ in sorted(spec.library_builds)) or "none"
    history = [
        base.created_by,
        f"oneclick libraries: {libraries}",
        f"oneclick app: {spec.repository} {spec.tag}",
    ]
    return {
        "architecture": "amd64",
        "os": "linux",
        "created": CREATED,
        "config": {
            "Cmd": list(APP_COMMAND),
            "Env": [f"{name}={value}" for name, value in sorted(env.items())],
            "ExposedPorts": {f"{APP_PORT}/tcp": {}},
            "Labels": dict(sorted(spec.labels.items())),
            "WorkingDir": "/app",
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": CREATED, "created_by": line} for line in history],
    }
