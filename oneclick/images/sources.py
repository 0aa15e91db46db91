"""Where the blobs of an image come from, and reading a base image from a registry or layout.

A ``BlobSource`` opens a blob by digest for upload; ``mount_from`` names a repository of the
*target* registry that already holds it, so a push can mount it instead of uploading it.
``LocalBlobs`` serves freshly written files and bytes, ``LayoutBlobs`` an OCI layout's blobs,
``RegistryBlobs`` a repository of a registry (downloaded to a temporary file when it cannot
be mounted).

``open_base_image(reference, client)`` reads a base image's manifest and config: from an OCI
layout (``oci-layout:/dir@sha256:...``) or a registry (``host/repo:tag`` or ``@sha256:...``;
an index is resolved to its linux/amd64 manifest). A base in the target registry is read
through ``client``; one elsewhere through an anonymous client of the same scheme.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from oneclick.errors import BuildError
from oneclick.images.reading import SCHEME, open_image, parse_reference
from oneclick.images.store import LayoutStore
from oneclick.registry import RegistryClient, RegistryConfig
from oneclick.registry.client import DOCKER_LIST, OCI_INDEX

PLATFORM = {"architecture": "amd64", "os": "linux"}


class BlobSource(Protocol):
    """Opens blobs by digest; ``mount_from`` is a repository of the target registry or None."""

    @property
    def mount_from(self) -> str | None: ...

    def open(self, digest: str) -> contextlib.AbstractContextManager[IO[bytes]]: ...


@dataclass
class LocalBlobs:
    """Blobs on this machine: files by digest, and small documents held as bytes."""

    files: dict[str, Path] = field(default_factory=dict)
    documents: dict[str, bytes] = field(default_factory=dict)
    mount_from: str | None = None

    @contextlib.contextmanager
    def open(self, digest: str) -> Iterator[IO[bytes]]:
        if digest in self.documents:
            with tempfile.TemporaryFile() as handle:
                handle.write(self.documents[digest])
                handle.seek(0)
                yield handle
            return
        with self.files[digest].open("rb") as handle:
            yield handle


@dataclass
class LayoutBlobs:
    """The blobs of an OCI image layout."""

    store: LayoutStore
    mount_from: str | None = None

    @contextlib.contextmanager
    def open(self, digest: str) -> Iterator[IO[bytes]]:
        with self.store.blob_path(digest).open("rb") as handle:
            yield handle


@dataclass
class RegistryBlobs:
    """The blobs of one repository of a registry (``mount_from`` when it is the target's)."""

    client: RegistryClient
    repository: str
    mount_from: str | None = None

    @contextlib.contextmanager
    def open(self, digest: str) -> Iterator[IO[bytes]]:
        with tempfile.TemporaryFile() as handle:
            self.client.download_blob(self.repository, digest, handle)
            handle.seek(0)
            yield handle


@dataclass
class BaseImage:
    """A base image as read: where from, its manifest and config, and its blobs."""

    reference: str
    manifest: dict[str, Any]
    config: dict[str, Any]
    blobs: BlobSource
    owned: RegistryClient | None = None

    @property
    def layers(self) -> list[dict[str, Any]]:
        return list(self.manifest.get("layers") or [])

    def close(self) -> None:
        if self.owned is not None:
            self.owned.close()


def open_base_image(reference: str, client: RegistryClient) -> BaseImage:
    """Read the base image ``reference`` names; see the module docstring."""
    if reference.startswith(SCHEME):
        image = open_image(parse_reference(reference))
        return BaseImage(
            reference=reference,
            manifest=image.manifest,
            config=image.config,
            blobs=LayoutBlobs(LayoutStore(image.root)),
        )
    parsed = client.config.parse(reference)
    same = parsed.host == client.host
    reader = client if same else _anonymous(parsed.host, client.config)
    try:
        manifest, digest = _image_manifest(reader, parsed.repository, parsed.target, reference)
        descriptor = manifest.get("config") or {}
        config = json.loads(reader.get_blob(parsed.repository, str(descriptor.get("digest"))))
    except BaseException:
        if not same:
            reader.close()
        raise
    blobs = RegistryBlobs(reader, parsed.repository, parsed.repository if same else None)
    return BaseImage(
        reference=parsed.pinned(digest),
        manifest=manifest,
        config=config,
        blobs=blobs,
        owned=None if same else reader,
    )


def _anonymous(host: str, config: RegistryConfig) -> RegistryClient:
    return RegistryClient(RegistryConfig(url=host, insecure=config.scheme == "http"))


def _image_manifest(
    client: RegistryClient, repository: str, target: str, reference: str
) -> tuple[dict[str, Any], str]:
    """The image manifest ``target`` names (through an index if need be), and its digest."""
    top = client.get_manifest(repository, target)
    document = _json(top.data, reference)
    if document.get("mediaType") in (OCI_INDEX, DOCKER_LIST) or "manifests" in document:
        chosen = [
            entry
            for entry in document.get("manifests") or []
            if all((entry.get("platform") or {}).get(k) == v for k, v in PLATFORM.items())
        ]
        if not chosen:
            raise BuildError(
                f"base image {reference} is an index without a linux/amd64 image; "
                "name a single-platform image as the base"
            )
        document = _json(client.get_manifest(repository, chosen[0]["digest"]).data, reference)
    if not isinstance(document.get("layers"), list) or "config" not in document:
        raise BuildError(f"base image {reference}: expected an image manifest with layers")
    return document, top.digest


def _json(data: bytes, reference: str) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise BuildError(f"base image {reference}: the manifest is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise BuildError(f"base image {reference}: the manifest is not a JSON object")
    return document
