"""The image Prefect workers and their job runs use: oneclick, Prefect and the flows, built
daemonlessly on the runtime base image.

``build_worker_image(target, cache=..., base=None)``:

1. opens the runtime base (``RegistryConfig.base_reference()`` for a registry target; the
   image tagged ``oneclick-runtime:python<X.Y>`` in the same OCI layout for a layout target;
   or ``base``); a missing base is a ``BuildError`` saying to run ``oneclick runtime build``;
2. copies oneclick's installed requirements (with theirs) from this environment and writes
   the packages layer, cached by content under ``cache/layers`` (it is large and rarely
   changes), then the source layer (``oneclick.images.worker_layers`` says what each holds);
3. writes the config and manifest (base layers first) with ``canonical_json``;
4. delivers: into the OCI layout (tagged ``oneclick-worker:<oneclick version>``), or pushed
   to ``target.reference`` (default ``<host>/<prefix>/oneclick-worker:<version>``) uploading
   only what the registry lacks and mounting the base layers from the base's repository.

Everything is deterministic, so building twice from the same checkout and environment gives
the same digest, and the second push uploads nothing.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from oneclick.errors import BuildError
from oneclick.images.assemble import manifest_document
from oneclick.images.layer_cache import cached_layer
from oneclick.images.layers import LayerBlob, write_layer
from oneclick.images.packages import copy_installed
from oneclick.images.push import Blob, PushResult, push_image
from oneclick.images.python_root import python_root
from oneclick.images.reading import SCHEME, format_reference, open_image
from oneclick.images.sources import BaseImage, LayoutBlobs, LocalBlobs, open_base_image
from oneclick.images.spec import CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE, MANIFEST_MEDIA_TYPE
from oneclick.images.store import LayoutStore, canonical_json
from oneclick.images.worker_layers import (
    WORKER_REPOSITORY,
    package_entries,
    project_root,
    source_entries,
    worker_config,
    worker_requirements,
)
from oneclick.registry import BASE_REPOSITORY, RegistryClient, RegistryConfig, RegistryError
from oneclick.registry import base_tag as runtime_tag

log = logging.getLogger(__name__)


def oneclick_version() -> str:
    return metadata.version("oneclick")


@dataclass(frozen=True)
class WorkerTarget:
    """Where the worker image goes: an OCI layout, or a registry (``reference`` in it)."""

    layout: Path | None = None
    registry: RegistryConfig | None = None
    reference: str | None = None

    def tag(self) -> str:
        if self.registry is not None and self.reference:
            return self.registry.parse(self.reference).tag or oneclick_version()
        return oneclick_version()

    def registry_reference(self) -> str:
        assert self.registry is not None, "a registry target names a registry"
        default = f"{self.registry.host}/{self.registry.repository(WORKER_REPOSITORY)}"
        return self.reference or f"{default}:{oneclick_version()}"


class WorkerImageResult(BaseModel):
    """The built worker image: where it is (pinned by digest), on what, and what it holds."""

    model_config = ConfigDict(frozen=True)

    reference: str
    digest: str
    tag: str
    base: str
    oneclick: str
    prefect: str
    packages: dict[str, str]
    layers: list[str]
    size: int
    uploaded: int = 0
    uploaded_bytes: int = 0
    mounted: int = 0
    present: int = 0


def build_worker_image(
    target: WorkerTarget, *, cache: Path, base: str | None = None
) -> WorkerImageResult:
    """Build the worker image into ``target``; see the module docstring."""
    client = RegistryClient(target.registry) if target.registry is not None else None
    try:
        if client is not None:
            client.ping()
        opened = _open_base(target, base, client)
        try:
            return _build(target, opened, client, cache)
        finally:
            opened.close()
    finally:
        if client is not None:
            client.close()


def _build(
    target: WorkerTarget, base: BaseImage, client: RegistryClient | None, cache: Path
) -> WorkerImageResult:
    root = project_root()
    libraries = python_root().libraries
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix="worker-") as temp:
        work = Path(temp)
        installed = work / "packages"
        installed.mkdir()
        versions = copy_installed(worker_requirements(), installed)
        layers = [
            cached_layer(package_entries(installed, versions, libraries), cache / "layers"),
            write_layer(source_entries(root), work / "source.tar.gz"),
        ]
        shutil.rmtree(installed)  # the layer holds them now
        oneclick, prefect = oneclick_version(), versions.get("prefect", "")
        document = worker_config(
            base.config, [layer.diff_id for layer in layers], oneclick, prefect
        )
        config = canonical_json(document)
        config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
        descriptors = [*base.layers, *(_descriptor(layer) for layer in layers)]
        manifest = canonical_json(manifest_document(config_digest, len(config), descriptors))
        local = LocalBlobs(
            files={layer.digest: layer.path for layer in layers},
            documents={config_digest: config},
        )
        config_descriptor = {"mediaType": CONFIG_MEDIA_TYPE, "digest": config_digest}
        blobs = [
            Blob({**config_descriptor, "size": len(config)}, local),
            *(Blob(layer, base.blobs) for layer in base.layers),
            *(Blob(_descriptor(layer), local) for layer in layers),
        ]
        reference, pushed = _deliver(target, client, blobs, manifest)
    result = WorkerImageResult(
        reference=reference,
        digest=pushed.digest,
        tag=target.tag(),
        base=base.reference,
        oneclick=oneclick,
        prefect=prefect,
        packages=versions,
        layers=[str(d["digest"]) for d in descriptors],
        size=len(manifest) + len(config) + sum(int(d["size"]) for d in descriptors),
        uploaded=pushed.uploaded,
        uploaded_bytes=pushed.uploaded_bytes,
        mounted=pushed.mounted,
        present=pushed.present,
    )
    log.info("worker image %s on %s: %d bytes", result.reference, base.reference, result.size)
    return result


def _open_base(target: WorkerTarget, base: str | None, client: RegistryClient | None) -> BaseImage:
    """The runtime base to build on; a clear ``BuildError`` when it is not there."""
    if client is not None:
        reference = base or client.config.base_reference()
        try:
            return open_base_image(reference, client)
        except RegistryError as exc:
            if not exc.not_found:
                raise
            raise BuildError(
                f"expected the runtime base image at {reference}, found none; build it first "
                f"with `oneclick runtime build --push {reference}`, or name another base"
            ) from exc
    assert target.layout is not None, "a worker target names a layout or a registry"
    if base is not None and not base.startswith(SCHEME):
        raise BuildError(
            f"expected the base of a worker image built into a layout to be a layout image "
            f"({SCHEME}/dir@sha256:...), found {base!r}; push the worker image to a registry "
            "instead (--push), or build the runtime base into the layout"
        )
    if base is None:
        store = LayoutStore(target.layout)
        name = f"{BASE_REPOSITORY}:{runtime_tag()}"
        try:
            base = format_reference(store.root, store.resolve(name))
        except BuildError as exc:
            raise BuildError(
                f"expected the runtime base image {name} in the OCI layout {store.root}, "
                f"found none; build it first with `oneclick runtime build --layout "
                f"{store.root}`"
            ) from exc
    image = open_image(base)
    return BaseImage(
        reference=base,
        manifest=image.manifest,
        config=image.config,
        blobs=LayoutBlobs(LayoutStore(image.root)),
    )


def _deliver(
    target: WorkerTarget, client: RegistryClient | None, blobs: list[Blob], manifest: bytes
) -> tuple[str, PushResult]:
    if client is not None:
        parsed = client.config.parse(target.registry_reference())
        pushed = push_image(client, parsed.repository, blobs, manifest, tags=[target.tag()])
        return parsed.pinned(pushed.digest), pushed
    assert target.layout is not None, "a worker target names a layout or a registry"
    store = LayoutStore(target.layout)
    store.create()
    written = written_bytes = present = 0
    for blob in {blob.digest: blob for blob in blobs}.values():
        if store.has_blob(blob.digest):
            present += 1
            continue
        temp, hashed = store.temp_file(), hashlib.sha256()
        try:
            with blob.source.open(blob.digest) as source, temp.open("wb") as copy:
                while chunk := source.read(1 << 20):
                    hashed.update(chunk)
                    copy.write(chunk)
            if "sha256:" + hashed.hexdigest() != blob.digest:
                raise BuildError(
                    f"expected blob {blob.digest} for the worker image, read bytes hashing to "
                    f"sha256:{hashed.hexdigest()}; its source is damaged: build it again"
                )
            store.put_file(temp, blob.digest)
        finally:
            temp.unlink(missing_ok=True)
        written += 1
        written_bytes += blob.size
    digest = store.put_bytes(manifest)
    descriptor = {"mediaType": MANIFEST_MEDIA_TYPE, "digest": digest, "size": len(manifest)}
    store.tag(f"{WORKER_REPOSITORY}:{target.tag()}", descriptor)
    pushed = PushResult(
        digest=digest, uploaded=written, uploaded_bytes=written_bytes, mounted=0, present=present
    )
    return format_reference(store.root, digest), pushed


def _descriptor(layer: LayerBlob) -> dict[str, Any]:
    return {"mediaType": LAYER_MEDIA_TYPE, "digest": layer.digest, "size": layer.size}
