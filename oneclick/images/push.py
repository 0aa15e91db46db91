"""Pushing an image's blobs and manifest to a registry, uploading only what it lacks.

``push_image(client, repository, blobs, manifest, tags)`` walks the blobs (config and layers,
each a descriptor with the ``BlobSource`` that can open it): a blob the repository already
has (``HEAD``) is left alone; a blob whose source is another repository of the same registry
is mounted from there; only the rest is uploaded. Then the manifest is stored under every tag
(or under its digest when there is none). The ``PushResult`` counts each kind, so an
unchanged image reports ``uploaded == 0``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from oneclick.images.sources import BlobSource
from oneclick.images.spec import MANIFEST_MEDIA_TYPE
from oneclick.registry import RegistryClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Blob:
    """One blob to push: its descriptor (digest, size, media type) and where to read it."""

    descriptor: dict[str, Any]
    source: BlobSource

    @property
    def digest(self) -> str:
        return str(self.descriptor["digest"])

    @property
    def size(self) -> int:
        return int(self.descriptor["size"])


@dataclass(frozen=True)
class PushResult:
    """What a push did: the manifest digest and how each blob got there."""

    digest: str
    uploaded: int
    uploaded_bytes: int
    mounted: int
    present: int


def push_image(
    client: RegistryClient,
    repository: str,
    blobs: Sequence[Blob],
    manifest: bytes,
    tags: Sequence[str] = (),
    media_type: str = MANIFEST_MEDIA_TYPE,
) -> PushResult:
    """Push ``blobs`` then ``manifest`` into ``repository``; see the module docstring."""
    uploaded = uploaded_bytes = mounted = present = 0
    seen: set[str] = set()
    for blob in blobs:
        if blob.digest in seen:
            continue
        seen.add(blob.digest)
        if client.has_blob(repository, blob.digest):
            present += 1
            continue
        source = blob.source
        other = source.mount_from if source.mount_from != repository else None
        if other and client.mount_blob(repository, blob.digest, other):
            mounted += 1
            continue
        client.upload_blob(repository, blob.digest, blob.size, partial(source.open, blob.digest))
        uploaded += 1
        uploaded_bytes += blob.size
    digest = ""
    for reference in tags or ["sha256:" + hashlib.sha256(manifest).hexdigest()]:
        digest = client.put_manifest(repository, reference, manifest, media_type)
    log.info(
        "pushed %s/%s@%s: %d blob(s) uploaded (%d bytes), %d mounted, %d already there",
        client.host,
        repository,
        digest,
        uploaded,
        uploaded_bytes,
        mounted,
        present,
    )
    return PushResult(
        digest=digest,
        uploaded=uploaded,
        uploaded_bytes=uploaded_bytes,
        mounted=mounted,
        present=present,
    )
