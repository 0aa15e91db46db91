"""Library builds in an OCI registry, so that every worker of a team resolves the same ones.

A published build is an OCI artifact in repository ``<prefix>/oneclick-libraries/<name>``,
tagged by its version: an image manifest with ``artifactType`` ``LIBRARY_ARTIFACT``, the
empty config, and one layer, the build directory as a deterministic gzip'd tar (under
``library/``). The manifest's annotations carry the build's content digest, so the
immutability check is one manifest read: publishing a version the registry holds with
other content is refused; with the same content it is a no-op.

A build is fetched into the local library store (``cache``) the first time a process needs
it, checked there against its digest as every stored build is, and re-checked against the
registry's annotation once per process.
"""

from __future__ import annotations

import builtins
import json
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from oneclick.compiler.digest import content_digest
from oneclick.errors import LibraryError
from oneclick.images.layers import collect_tree, write_layer
from oneclick.libraries.build import LibraryBuild
from oneclick.libraries.store import LibraryPublishResult, LibraryStore, _read_manifest, _short
from oneclick.model.semver import is_semver, semver_key
from oneclick.registry import RegistryConfig
from oneclick.registry.client import OCI_MANIFEST, Manifest, RegistryClient, sha256

LIBRARY_ARTIFACT = "application/vnd.oneclick.library.v1"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
EMPTY = b"{}"
EMPTY_CONFIG = {
    "mediaType": "application/vnd.oci.empty.v1+json",
    "digest": sha256(EMPTY),
    "size": 2,
}
DIGEST_ANNOTATION = "io.oneclick.library.digest"
REPOSITORY = "oneclick-libraries"


class RegistryLibraryStore(LibraryStore):
    """Library builds in ``registry``, fetched into the library store at ``cache``."""

    def __init__(self, registry: RegistryConfig, cache: Path) -> None:
        super().__init__(cache)
        self.registry = registry
        self._checked: dict[tuple[str, str], str] = {}

    def repository(self, name: str) -> str:
        return self.registry.repository(f"{REPOSITORY}/{name}")

    def publish(self, build_dir: Path) -> LibraryPublishResult:
        manifest = _read_manifest(build_dir)
        name, version, digest = manifest["name"], manifest["version"], manifest["digest"]
        if content_digest(build_dir) != digest:
            raise LibraryError(
                f"the build in {build_dir} does not match its manifest; compile {name} "
                f"{version} again"
            )
        with RegistryClient(self.registry) as client:
            existing = self._remote_digest(client, name, version)
            pushed = existing is None
            if pushed:
                self._push(client, build_dir, name, version, digest)
                existing = self._remote_digest(client, name, version)  # a racing publisher?
        if existing != digest:
            raise LibraryError(
                f"{name} {version} is already published in {self.registry.host} with digest "
                f"{_short(existing or '')} and this build is {_short(digest)}; a published "
                "version is immutable: raise the version in library.yaml"
            )
        self._checked[(name, version)] = digest
        local = super().publish(build_dir)  # this worker's copy
        return LibraryPublishResult(build=local.build, created=pushed)

    def get(self, name: str, version: str) -> LibraryBuild:
        directory = self._directory(name, version)
        if not (directory / "manifest.json").is_file():
            self._fetch(name, version)
        build = LibraryBuild.from_directory(directory)
        if (name, version) not in self._checked:
            with RegistryClient(self.registry) as client:
                remote = self._remote_digest(client, name, version)
            if remote != build.digest:
                raise LibraryError(
                    f"library {name} {version} in {self.registry.host} is "
                    f"{_short(remote or 'missing')}, the copy in {directory} is "
                    f"{_short(build.digest)}; remove {directory} so it is fetched again"
                )
            self._checked[(name, version)] = remote
        return build

    def versions(self, name: str) -> builtins.list[str]:
        with RegistryClient(self.registry) as client:
            tags = client.list_tags(self.repository(name))
        return sorted((tag for tag in tags if is_semver(tag)), key=semver_key)

    def static_entities(self, name: str, version: str) -> dict[str, list[str]] | None:
        try:
            build = self.get(name, version)
        except LibraryError:
            return None
        return {
            entity: [record.key for record in records]
            for entity, records in build.static_entities.items()
        }

    def _remote_digest(self, client: RegistryClient, name: str, version: str) -> str | None:
        found = client.find_manifest(self.repository(name), version)
        return None if found is None else _annotation(found, name, version)

    def _push(
        self, client: RegistryClient, build_dir: Path, name: str, version: str, digest: str
    ) -> None:
        repository = self.repository(name)
        with tempfile.TemporaryDirectory(prefix="oneclick-library-") as scratch:
            layer = write_layer(collect_tree(build_dir, "library"), Path(scratch) / "layer")
            if not client.has_blob(repository, sha256(EMPTY)):
                client.upload_blob(repository, sha256(EMPTY), len(EMPTY), lambda: BytesIO(EMPTY))
            if not client.has_blob(repository, layer.digest):
                client.upload_blob(
                    repository, layer.digest, layer.size, lambda: layer.path.open("rb")
                )
        document = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": LIBRARY_ARTIFACT,
            "config": EMPTY_CONFIG,
            "layers": [{"mediaType": LAYER, "digest": layer.digest, "size": layer.size}],
            "annotations": {
                "org.opencontainers.image.title": name,
                "org.opencontainers.image.version": version,
                DIGEST_ANNOTATION: digest,
            },
        }
        data = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
        client.put_manifest(repository, version, data, OCI_MANIFEST)

    def _fetch(self, name: str, version: str) -> None:
        repository = self.repository(name)
        with RegistryClient(self.registry) as client:
            found = client.find_manifest(repository, version)
            if found is None:
                published = self.versions(name)
                raise LibraryError(
                    f"library {name} {version} is not published in {self.registry.host}"
                    + (f"; published versions: {', '.join(published)}" if published else "")
                    + "; publish it first with: oneclick publish library PATH"
                )
            layer = json.loads(found.data)["layers"][0]["digest"]
            with tempfile.TemporaryDirectory(prefix="oneclick-library-") as scratch:
                archive = Path(scratch) / "layer"
                with archive.open("w+b") as target:
                    client.download_blob(repository, layer, target)
                with tarfile.open(archive, "r:gz") as tar:
                    tar.extractall(scratch, filter="data")
                super().publish(Path(scratch) / "library")


def _annotation(found: Manifest, name: str, version: str) -> str:
    document = json.loads(found.data)
    if document.get("artifactType") != LIBRARY_ARTIFACT:
        raise LibraryError(
            f"{name}:{version} in the registry is not a oneclick library build "
            f"(artifactType {document.get('artifactType')!r})"
        )
    return str(document.get("annotations", {}).get(DIGEST_ANNOTATION, ""))
