"""The runtime base image every app image starts from, built here from the host's Python.

``build_runtime_image(target, packages=..., cache=...)`` writes two layers:

1. ``python``: the host interpreter, its trimmed standard library and shared libraries
   (``oneclick.images.python_root``);
2. ``packages``: the compiled app's runtime dependencies under
   ``/usr/local/lib/oneclick/site-packages`` (on ``PYTHONPATH``) and
   ``/etc/oneclick/base.json`` naming the Python version and every package version;

then a config (``PATH``, ``PYTHONPATH``, ``LANG``; the app's ``Cmd``, ``WorkingDir /app``,
port 8080; labels with the versions) and a manifest. Layers and documents are deterministic,
so the same interpreter and packages give the same digest. ``RuntimeTarget`` says where the
image goes: an OCI layout (tagged ``oneclick-runtime:python<X.Y>``) or a registry reference
(pushed, uploading only what the registry lacks). Nothing is pulled from any registry.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from oneclick.images.assemble import CREATED, manifest_document
from oneclick.images.base import BASE_DESCRIPTION_PATH
from oneclick.images.layer_cache import cached_layer
from oneclick.images.layers import LayerBlob, LayerEntry, collect_tree
from oneclick.images.packages import (
    RUNTIME_REQUIREMENTS,
    copy_installed,
    install_from_index,
    pinned_requirements,
)
from oneclick.images.push import Blob, push_image
from oneclick.images.python_root import (
    PythonRoot,
    library_entries,
    python_root,
    shared_libraries,
)
from oneclick.images.reading import format_reference
from oneclick.images.sources import LocalBlobs
from oneclick.images.spec import (
    APP_COMMAND,
    APP_PORT,
    CONFIG_MEDIA_TYPE,
    LAYER_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE,
)
from oneclick.images.store import LayoutStore, canonical_json
from oneclick.registry import BASE_REPOSITORY, RegistryClient, RegistryConfig, base_tag

log = logging.getLogger(__name__)

PACKAGES_DIR = "usr/local/lib/oneclick/site-packages"
RUNTIME_ENV = {
    "LANG": "C.UTF-8",
    "PATH": "/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONPATH": f"/{PACKAGES_DIR}",
    "PYTHONUNBUFFERED": "1",
}
PackageMode = Literal["index", "installed"]


@dataclass(frozen=True)
class RuntimeTarget:
    """Where the base image goes: an OCI layout, or a registry (``reference`` in it)."""

    layout: Path | None = None
    registry: RegistryConfig | None = None
    reference: str | None = None

    def tag(self) -> str:
        if self.registry is not None and self.reference:
            return self.registry.parse(self.reference).tag or base_tag()
        return base_tag()


class RuntimeImageResult(BaseModel):
    """The built base image: where it is (pinned by digest) and what it holds."""

    model_config = ConfigDict(frozen=True)

    reference: str
    digest: str
    tag: str
    python: str
    packages: dict[str, str]
    layers: list[str]
    size: int
    unpacked_size: int
    uploaded: int = 0


def build_runtime_image(
    target: RuntimeTarget,
    *,
    cache: Path,
    packages: PackageMode = "index",
    index_options: tuple[str, ...] = (),
    requirements: tuple[str, ...] = RUNTIME_REQUIREMENTS,
) -> RuntimeImageResult:
    """Build the runtime base image into ``target``; see the module docstring."""
    root = python_root()
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix="runtime-") as temp:
        work = Path(temp)
        installed = work / "packages"
        installed.mkdir()
        pins = pinned_requirements(requirements)
        if packages == "index":
            versions = install_from_index(pins, installed, cache, index_options=index_options)
        else:
            versions = copy_installed(pins, installed)
        description = _description(root.version, versions)
        layers = [
            cached_layer(root.entries, cache / "layers"),
            cached_layer(_package_entries(installed, description, root), cache / "layers"),
        ]
        config = canonical_json(_config(root.version, versions, layers))
        config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
        descriptors = [_descriptor(layer) for layer in layers]
        manifest = canonical_json(manifest_document(config_digest, len(config), descriptors))
        local = LocalBlobs(
            files={layer.digest: layer.path for layer in layers},
            documents={config_digest: config},
        )
        blobs = [
            Blob(
                {"mediaType": CONFIG_MEDIA_TYPE, "digest": config_digest, "size": len(config)},
                local,
            ),
            *(Blob(d, local) for d in descriptors),
        ]
        reference, uploaded = _deliver(target, blobs, manifest)
        unpacked = sum(_plain_size(layer) for layer in layers)  # read while the files exist
    result = RuntimeImageResult(
        reference=reference,
        digest="sha256:" + hashlib.sha256(manifest).hexdigest(),
        tag=target.tag(),
        python=root.version,
        packages=versions,
        layers=[layer.digest for layer in layers],
        size=len(manifest) + len(config) + sum(layer.size for layer in layers),
        unpacked_size=unpacked,
        uploaded=uploaded,
    )
    log.info("runtime base %s: %d bytes compressed", result.reference, result.size)
    return result


def _deliver(target: RuntimeTarget, blobs: list[Blob], manifest: bytes) -> tuple[str, int]:
    tag = target.tag()
    if target.registry is not None:
        registry = target.registry
        parsed = registry.parse(target.reference or registry.base_reference())
        with RegistryClient(registry) as client:
            client.ping()
            pushed = push_image(client, parsed.repository, blobs, manifest, tags=[tag])
        return parsed.pinned(pushed.digest), pushed.uploaded
    assert target.layout is not None, "a runtime target names a layout or a registry"
    store = LayoutStore(target.layout)
    store.create()
    written = 0
    for blob in blobs:
        if store.has_blob(blob.digest):
            continue
        with blob.source.open(blob.digest) as handle:
            store.put_bytes(handle.read())
        written += 1
    digest = store.put_bytes(manifest)
    store.tag(
        f"{BASE_REPOSITORY}:{tag}",
        {"mediaType": MANIFEST_MEDIA_TYPE, "digest": digest, "size": len(manifest)},
    )
    return format_reference(store.root, digest), written


def _description(python: str, versions: dict[str, str]) -> bytes:
    document = {
        "kind": "oneclick-base",
        "name": BASE_REPOSITORY,
        "python": python,
        "packages": versions,
    }
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _package_entries(installed: Path, description: bytes, root: PythonRoot) -> list[LayerEntry]:
    """The packages, their description, and the system libraries their extensions need
    beyond the interpreter's (libraries a wheel bundles stay where the wheel put them)."""
    extensions = sorted(installed.rglob("*.so*"))
    needed, _ = shared_libraries([path for path in extensions if path.is_file()])
    inside = str(installed.resolve()) + "/"
    extra = {
        name: path
        for name, path in needed.items()
        if name not in root.libraries and not str(path).startswith(inside)
    }
    return [
        *collect_tree(installed, PACKAGES_DIR),
        *library_entries(extra),
        LayerEntry(path=BASE_DESCRIPTION_PATH, data=description),
    ]


def _config(python: str, versions: dict[str, str], layers: list[LayerBlob]) -> dict[str, Any]:
    packages = " ".join(f"{name}=={version}" for name, version in versions.items())
    return {
        "architecture": "amd64",
        "os": "linux",
        "created": CREATED,
        "config": {
            "Cmd": list(APP_COMMAND),
            "Env": [f"{name}={value}" for name, value in sorted(RUNTIME_ENV.items())],
            "ExposedPorts": {f"{APP_PORT}/tcp": {}},
            "Labels": {
                "dev.oneclick.runtime.packages": packages,
                "dev.oneclick.runtime.python": python,
                "org.opencontainers.image.title": BASE_REPOSITORY,
            },
            "WorkingDir": "/app",
        },
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": [
            {"created": CREATED, "created_by": f"oneclick runtime: python {python}"},
            {"created": CREATED, "created_by": f"oneclick runtime packages: {packages}"},
        ],
    }


def _descriptor(layer: LayerBlob) -> dict[str, Any]:
    return {"mediaType": LAYER_MEDIA_TYPE, "digest": layer.digest, "size": layer.size}


def _plain_size(layer: LayerBlob) -> int:
    with gzip.open(layer.path, "rb") as handle:
        total = 0
        while chunk := handle.read(1 << 20):
            total += len(chunk)
    return total
