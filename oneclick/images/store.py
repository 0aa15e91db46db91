"""An OCI image layout directory as a blob store with tags, safe for concurrent writers.

Layout (OCI image-layout 1.0.0): ``oci-layout``, ``index.json`` and ``blobs/sha256/<hex>``.
Blobs are content-addressed and immutable: a blob is written to a temporary file in the
layout root and renamed into place, and a blob that already exists is never written again.
``index.json`` lists one manifest descriptor per tag, named by the
``org.opencontainers.image.ref.name`` annotation; it is read, changed and replaced (temp +
rename) while holding an exclusive ``fcntl.flock`` on ``index.json.lock``, so builds in
several threads or processes can share one layout. Tagging a name that exists moves it.

Every blob read is checked against its digest; a mismatch is a ``BuildError``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from oneclick.errors import BuildError
from oneclick.images.spec import DIGEST, REF_NAME

LAYOUT_FILE = "oci-layout"
INDEX_FILE = "index.json"
LOCK_FILE = "index.json.lock"
LAYOUT_VERSION = {"imageLayoutVersion": "1.0.0"}
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"


def canonical_json(document: dict[str, Any]) -> bytes:
    """The one byte form oneclick writes a JSON document in (sorted keys, no spaces)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


def check_digest(digest: str) -> str:
    """``digest`` itself when it is a sha256 digest; a ``BuildError`` otherwise."""
    if not re.match(DIGEST, digest):
        raise BuildError(f"expected a digest like sha256:<64 hex digits>, found {digest!r}")
    return digest


class LayoutStore:
    """One OCI image layout directory."""

    def __init__(self, root: Path) -> None:
        self.root = root.absolute()

    @property
    def blobs(self) -> Path:
        return self.root / "blobs" / "sha256"

    def create(self) -> None:
        """Make the layout if it does not exist yet (idempotent, safe to race)."""
        self.blobs.mkdir(parents=True, exist_ok=True)
        if not (self.root / LAYOUT_FILE).exists():
            self._replace(self.root / LAYOUT_FILE, canonical_json(LAYOUT_VERSION))
        with self.locked():
            if not (self.root / INDEX_FILE).exists():
                self._write_index([])

    def check(self) -> None:
        """Raise ``BuildError`` unless ``root`` holds an OCI image layout."""
        layout = self.root / LAYOUT_FILE
        if not layout.is_file() or not (self.root / INDEX_FILE).is_file():
            raise BuildError(
                f"expected an OCI image layout at {self.root} (with {LAYOUT_FILE} and "
                f"{INDEX_FILE}), found none; build an image into it first"
            )

    def blob_path(self, digest: str) -> Path:
        return self.blobs / check_digest(digest).removeprefix("sha256:")

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def temp_file(self) -> Path:
        """A new empty file in the layout root, on the blobs' filesystem, for ``put_file``."""
        handle, name = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        os.close(handle)
        return Path(name)

    def put_bytes(self, data: bytes) -> str:
        """Store ``data`` as a blob; returns its digest."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if not self.has_blob(digest):
            self._replace(self.blob_path(digest), data)
        return digest

    def put_file(self, source: Path, digest: str) -> None:
        """Move ``source`` (already hashed to ``digest``) into place, or drop it if present."""
        target = self.blob_path(digest)
        if target.is_file():
            source.unlink(missing_ok=True)
            return
        os.chmod(source, 0o644)
        os.replace(source, target)

    def read_blob(self, digest: str) -> bytes:
        """The bytes of a blob, checked against its digest."""
        path = self.blob_path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise BuildError(
                f"expected blob {digest} in the image layout {self.root}, found none; "
                "the layout is incomplete: build the image again"
            ) from exc
        found = "sha256:" + hashlib.sha256(data).hexdigest()
        if found != digest:
            raise BuildError(
                f"blob {path} should hash to {digest} but hashes to {found}; "
                "the layout is damaged: delete the blob and build the image again"
            )
        return data

    def read_json(self, digest: str) -> dict[str, Any]:
        data = self.read_blob(digest)
        try:
            document = json.loads(data)
        except ValueError as exc:
            raise BuildError(f"blob {digest} in {self.root} is not JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise BuildError(f"blob {digest} in {self.root} is not a JSON object")
        return document

    def index(self) -> dict[str, Any]:
        """The parsed ``index.json``."""
        self.check()
        document = json.loads((self.root / INDEX_FILE).read_text(encoding="utf-8"))
        if not isinstance(document, dict):
            raise BuildError(f"{self.root / INDEX_FILE} is not a JSON object")
        return document

    def tag(self, ref_name: str, descriptor: dict[str, Any]) -> None:
        """Point ``ref_name`` at the manifest ``descriptor`` (moving it if it exists)."""
        with self.locked():
            manifests = [
                entry
                for entry in self.index().get("manifests", [])
                if entry.get("annotations", {}).get(REF_NAME) != ref_name
            ]
            manifests.append({**descriptor, "annotations": {REF_NAME: ref_name}})
            self._write_index(manifests)

    def resolve(self, ref_name: str) -> str:
        """The manifest digest ``ref_name`` points at."""
        for entry in self.index().get("manifests", []):
            if entry.get("annotations", {}).get(REF_NAME) == ref_name:
                return check_digest(str(entry["digest"]))
        raise BuildError(
            f"expected an image tagged {ref_name!r} in {self.root}, found none; "
            "build it first or name it by digest"
        )

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the layout's index lock (exclusive, blocking) for the ``with`` block."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / LOCK_FILE).open("a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _write_index(self, manifests: list[dict[str, Any]]) -> None:
        def ref(entry: dict[str, Any]) -> tuple[str, str]:
            return (str(entry.get("annotations", {}).get(REF_NAME, "")), str(entry["digest"]))

        index = {
            "schemaVersion": 2,
            "mediaType": INDEX_MEDIA_TYPE,
            "manifests": sorted(manifests, key=ref),
        }
        text = json.dumps(index, indent=2, sort_keys=True) + "\n"
        self._replace(self.root / INDEX_FILE, text.encode("utf-8"))

    def _replace(self, target: Path, data: bytes) -> None:
        temp = self.temp_file()
        try:
            with temp.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, 0o644)
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
