"""Copying an image from a registry into an OCI layout, by digest, verified blob by blob.

``pull_to_layout(client, reference, layout)`` reads the manifest ``reference`` names (a tag
or, as releases record it, a digest), downloads the config and every layer the layout lacks
(each checked against its digest as it streams), stores the manifest byte for byte and tags
it ``<repository>:<tag or digest hex>``. It returns the layout reference
(``oci-layout:<dir>@<digest>``) that ``unpack_image`` and the local runtime read, so an image
pushed by the daemonless builder can also be served by the local runtime.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from oneclick.errors import BuildError
from oneclick.images.reading import format_reference
from oneclick.images.spec import MANIFEST_MEDIA_TYPE
from oneclick.images.store import LayoutStore
from oneclick.registry import RegistryClient

log = logging.getLogger(__name__)


def pull_to_layout(client: RegistryClient, reference: str, layout: Path) -> str:
    """Copy image ``reference`` of ``client``'s registry into ``layout``; its layout reference."""
    parsed = client.config.parse(reference)
    if parsed.host != client.host:
        raise BuildError(
            f"image {reference} lives in {parsed.host}, not in the registry at {client.host}; "
            "pull it with a client of its own registry"
        )
    manifest = client.get_manifest(parsed.repository, parsed.target)
    document = json.loads(manifest.data)
    if document.get("mediaType", MANIFEST_MEDIA_TYPE) != MANIFEST_MEDIA_TYPE:
        raise BuildError(
            f"image {reference}: expected an OCI image manifest, found {document.get('mediaType')}"
        )
    store = LayoutStore(layout)
    store.create()
    for descriptor in [document["config"], *document["layers"]]:
        digest = str(descriptor["digest"])
        if store.has_blob(digest):
            continue
        temp = store.temp_file()
        try:
            with temp.open("r+b") as handle:
                client.download_blob(parsed.repository, digest, handle)
                handle.flush()
                os.fsync(handle.fileno())
            store.put_file(temp, digest)
        finally:
            temp.unlink(missing_ok=True)
    digest = store.put_bytes(manifest.data)
    name = parsed.tag or digest.removeprefix("sha256:")
    store.tag(
        f"{parsed.repository.rpartition('/')[2]}:{name}",
        {"mediaType": MANIFEST_MEDIA_TYPE, "digest": digest, "size": len(manifest.data)},
    )
    log.info("pulled %s into %s", reference, store.root)
    return format_reference(store.root, digest)
