"""The daemonless builder that pushes to an OCI registry: no Docker engine, no root.

``RegistryImageBuilder(registry).build(spec)``:

1. checks the registry answers and takes the credentials (a refusal fails here, at once);
2. reads the runtime base image's manifest and config (``registry.base_reference()``: the
   same registry, another one, or an OCI layout);
3. writes the libraries layer (``libs/<name>/``) and the app layer (``app/``) as
   deterministic tars (``oneclick.images.layers``) into a scratch directory;
4. writes the config (``oneclick.images.assemble``) and the manifest, base layers first;
5. pushes to ``<prefix>/<app>``: blobs the repository has are skipped, base layers living in
   another repository of the registry are mounted, the rest uploaded; the manifest is tagged
   ``spec.tag`` (for people).

The ``ImageResult`` is pinned by digest: ``reference`` is ``host/<prefix>/<app>@sha256:...``,
which is what a release records. The same spec on the same base gives the same digest, and
a rebuild of an unchanged app uploads nothing (``uploaded == 0``).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from pathlib import Path

from oneclick.images.assemble import app_config, manifest_document
from oneclick.images.layers import LayerBlob, collect_tree, write_layer
from oneclick.images.layout import check_inputs, library_entries
from oneclick.images.push import Blob, push_image
from oneclick.images.sources import BaseImage, LocalBlobs, open_base_image
from oneclick.images.spec import CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE, ImageResult, ImageSpec
from oneclick.images.store import canonical_json
from oneclick.registry import RegistryClient, RegistryConfig

log = logging.getLogger(__name__)


class RegistryImageBuilder:
    """Builds images onto a base image and pushes them to ``registry``."""

    def __init__(
        self,
        registry: RegistryConfig,
        *,
        base: str | None = None,
        scratch: Path | None = None,
        client: RegistryClient | None = None,
    ) -> None:
        self.registry = registry
        self.base = base or registry.base_reference()
        self._scratch = scratch
        self._client = client

    def build(self, spec: ImageSpec) -> ImageResult:
        """Build ``spec`` on the base and push it; returns the digest-pinned result."""
        check_inputs(spec)
        client = self._client or RegistryClient(self.registry)
        try:
            client.ping()
            base = open_base_image(self.base, client)
            try:
                return self._build(spec, client, base)
            finally:
                base.close()
        finally:
            if self._client is None:
                client.close()

    def _build(self, spec: ImageSpec, client: RegistryClient, base: BaseImage) -> ImageResult:
        if self._scratch is not None:
            self._scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self._scratch, prefix="oneclick-image-") as temp:
            work = Path(temp)
            layers = [
                write_layer(library_entries(spec), work / "libs.tar.gz"),
                write_layer(collect_tree(spec.app_build, "app"), work / "app.tar.gz"),
            ]
            config = canonical_json(app_config(base.config, spec, [x.diff_id for x in layers]))
            config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
            descriptors = [*base.layers, *(_descriptor(layer) for layer in layers)]
            manifest = canonical_json(manifest_document(config_digest, len(config), descriptors))
            local = LocalBlobs(
                files={layer.digest: layer.path for layer in layers},
                documents={config_digest: config},
            )
            blobs = [
                Blob(_config_descriptor(config_digest, len(config)), local),
                *(Blob(layer, base.blobs) for layer in base.layers),
                *(Blob(_descriptor(layer), local) for layer in layers),
            ]
            repository = self.registry.repository(spec.repository)
            pushed = push_image(client, repository, blobs, manifest, tags=[spec.tag])
        log.info(
            "built %s %s on %s as %s", spec.repository, spec.tag, base.reference, pushed.digest
        )
        return ImageResult(
            repository=repository,
            tag=spec.tag,
            digest=pushed.digest,
            reference=self.registry.pinned(spec.repository, pushed.digest),
            config_digest=config_digest,
            layers=[str(d["digest"]) for d in descriptors],
            size=len(manifest) + len(config) + sum(int(d["size"]) for d in descriptors),
            uploaded=pushed.uploaded,
            uploaded_bytes=pushed.uploaded_bytes,
            mounted=pushed.mounted,
        )


def _descriptor(layer: LayerBlob) -> dict[str, object]:
    return {"mediaType": LAYER_MEDIA_TYPE, "digest": layer.digest, "size": layer.size}


def _config_descriptor(digest: str, size: int) -> dict[str, object]:
    return {"mediaType": CONFIG_MEDIA_TYPE, "digest": digest, "size": size}
