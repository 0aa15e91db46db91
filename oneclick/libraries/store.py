"""The library store: published library builds, immutable, one directory per version.

``LibraryStore(root)`` keeps each published build at ``root/<name>/<version>/`` (the compiled
build directory's files, ``manifest.json`` included).

- ``publish(build_dir)`` checks the build's files against the digest in its manifest, then
  copies it into a hidden staging directory beside its final place and renames it there in
  one step, so readers never see half a build. Publishing the same name and version again is
  a no-op when the digest is the same and a ``LibraryError`` when it differs: a published
  version never changes. Two publishers racing on one version are safe: the rename lets one
  win, and the other compares its digest with the winner's.
- ``get``, ``versions``, ``list`` read what is published; ``versions`` and
  ``static_entities`` make the store a ``LibraryCatalog`` for the model checks.
- ``resolve(refs)`` answers the builds an app bundles: the listed libraries (a range: the
  newest published version it admits) and everything they depend on, sorted by name; two
  versions of one library, or a dependency cycle, is a ``LibraryError``. Each build's files
  are checked against the digest it was published with: a build changed in the store since
  is refused, never bundled.
"""

from __future__ import annotations

import builtins
import json
import logging
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from oneclick.compiler.digest import content_digest
from oneclick.errors import LibraryError
from oneclick.libraries.build import LibraryBuild
from oneclick.model.semver import is_semver, newest_match, semver_key
from oneclick.model.types import LIBRARY_NAME, LibraryRef, LibraryRequirement

MANIFEST = "manifest.json"
STAGING = ".partial"

logger = logging.getLogger(__name__)

_NAME = re.compile(LIBRARY_NAME)


class LibraryPublishResult(BaseModel):
    """What publishing did: the stored build, and whether this call stored it."""

    model_config = ConfigDict(frozen=True)

    build: LibraryBuild
    created: bool


class LibraryStore:
    """Published library builds under ``root``; see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def publish(self, build_dir: Path) -> LibraryPublishResult:
        """Store the compiled library build in ``build_dir`` (no-op if already stored)."""
        manifest = _read_manifest(build_dir)
        name, version, digest = manifest["name"], manifest["version"], manifest["digest"]
        actual = content_digest(build_dir)
        if actual != digest:
            raise LibraryError(
                f"the build in {build_dir} does not match its manifest: manifest.json says "
                f"{digest}, its files give {actual}; compile {name} {version} again"
            )
        target = self._directory(name, version)
        if (target / MANIFEST).is_file():
            return _compare(target, name, version, digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{version}.", suffix=STAGING, dir=target.parent))
        try:
            shutil.copytree(build_dir, staging, dirs_exist_ok=True)
            if content_digest(staging) != digest:
                raise LibraryError(
                    f"the build in {build_dir} changed while it was being stored; "
                    f"publish {name} {version} again"
                )
            staging.chmod(0o755)
            try:
                staging.rename(target)
            except OSError as exc:
                if not (target / MANIFEST).is_file():
                    raise LibraryError(
                        f"cannot store {name} {version} at {target}: {exc.strerror}"
                    ) from exc
                logger.info("another publisher stored %s %s first", name, version)
                return _compare(target, name, version, digest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        logger.info("published library %s %s (%s) to %s", name, version, digest, target)
        return LibraryPublishResult(build=LibraryBuild.from_directory(target), created=True)

    def get(self, name: str, version: str) -> LibraryBuild:
        """The published build of ``name`` ``version``; LibraryError if there is none."""
        if _is_published(self._directory(name, version)):
            return LibraryBuild.from_directory(self._directory(name, version))
        published = self.versions(name)
        if not published:
            raise LibraryError(
                f"library {name} is not published (store: {self.root}); "
                "publish it first with: oneclick publish library PATH"
            )
        raise LibraryError(
            f"library {name} has no published version {version}; "
            f"published versions: {', '.join(published)}"
        )

    def versions(self, name: str) -> builtins.list[str]:
        """The published versions of ``name``, oldest first by semantic version."""
        folder = self.root / name
        if not _NAME.match(name) or not folder.is_dir():
            return []
        found = [
            entry.name
            for entry in folder.iterdir()
            if is_semver(entry.name) and _is_published(entry)
        ]
        return sorted(found, key=semver_key)

    def static_entities(self, name: str, version: str) -> Mapping[str, Sequence[str]] | None:
        """Static entity name → record keys of a published build; None if not published."""
        if not _NAME.match(name) or not is_semver(version):
            return None
        if not _is_published(self._directory(name, version)):
            return None
        build = LibraryBuild.from_directory(self._directory(name, version))
        return {
            entity: [record.key for record in records]
            for entity, records in build.static_entities.items()
        }

    def pick(self, ref: LibraryRef | LibraryRequirement) -> LibraryRef:
        """The exact version ``ref`` names: itself, or the newest published match of a range."""
        if is_semver(ref.version):
            return LibraryRef(name=ref.name, version=ref.version)
        published = self.versions(ref.name)
        try:
            version = newest_match(ref.version, published)
        except ValueError as exc:
            raise LibraryError(f"library {ref.name}: {exc}") from exc
        if version is None:
            raise LibraryError(
                f"no published version of library {ref.name} matches {ref.version}; "
                f"published versions: {', '.join(published) or 'none'}; publish a matching "
                "version or change the range in the app model"
            )
        return LibraryRef(name=ref.name, version=version)

    def resolve(
        self, refs: Sequence[LibraryRef | LibraryRequirement]
    ) -> builtins.list[LibraryBuild]:
        """The builds of ``refs`` (ranges: the newest published match) and all their
        dependencies, sorted by name."""
        chosen: dict[str, tuple[LibraryBuild, tuple[str, ...]]] = {}

        def visit(ref: LibraryRef, trail: tuple[LibraryRef, ...]) -> None:
            here = (*trail, ref)
            chain = tuple(f"{step.name} {step.version}" for step in here)
            if any(step.name == ref.name for step in trail):
                raise LibraryError(
                    f"library dependency cycle: {' → '.join(chain)}; a library cannot "
                    "depend on itself, directly or through others"
                )
            if ref.name in chosen:
                build, first = chosen[ref.name]
                if build.version != ref.version:
                    raise LibraryError(
                        f"library {ref.name} is needed in two versions: {build.version} "
                        f"({' → '.join(first)}) and {ref.version} ({' → '.join(chain)}); "
                        "bundle one version: make the libraries agree on it"
                    )
                return
            try:
                build = self.get(ref.name, ref.version)
            except LibraryError as exc:
                if not trail:
                    raise
                raise LibraryError(f"{exc} (needed by {' → '.join(chain[:-1])})") from exc
            _verify(build)
            chosen[ref.name] = (build, chain)
            for dependency in build.libraries:
                visit(dependency, here)

        for ref in refs:
            visit(self.pick(ref), ())
        return [chosen[name][0] for name in sorted(chosen)]

    def list(self) -> builtins.list[LibraryBuild]:
        """Every published build, by name and then version."""
        if not self.root.is_dir():
            return []
        names = sorted(entry.name for entry in self.root.iterdir() if _NAME.match(entry.name))
        return [self.get(name, version) for name in names for version in self.versions(name)]

    def _directory(self, name: str, version: str) -> Path:
        if not _NAME.match(name) or not is_semver(version):
            raise LibraryError(
                f"'{name} {version}' is not a library name and semantic version "
                "(such as finance-common 1.2.0)"
            )
        return self.root / name / version


def _verify(build: LibraryBuild) -> None:
    """The stored files still give the digest the build was published with."""
    actual = content_digest(build.path)
    if actual != build.digest:
        raise LibraryError(
            f"library {build.name} {build.version} in the store ({build.path}) was changed "
            f"after it was published: it was published as {_short(build.digest)}, its files "
            f"now give {_short(actual)}; a published build never changes: remove "
            f"{build.path} and publish {build.name} {build.version} again from its source"
        )


def _is_published(directory: Path) -> bool:
    return (directory / MANIFEST).is_file()


def _compare(target: Path, name: str, version: str, digest: str) -> LibraryPublishResult:
    existing = LibraryBuild.from_directory(target)
    if existing.digest == digest:
        logger.info("library %s %s is already published with this digest", name, version)
        return LibraryPublishResult(build=existing, created=False)
    raise LibraryError(
        f"{name} {version} is already published with digest {_short(existing.digest)} and "
        f"this build is {_short(digest)}; a published version is immutable: raise the "
        "version in library.yaml"
    )


def _short(digest: str) -> str:
    return digest[: len("sha256:") + 12] + ".."


def _read_manifest(build_dir: Path) -> dict[str, Any]:
    path = build_dir / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise LibraryError(
            f"{build_dir} is not a library build: it has no {MANIFEST}; compile the library first"
        ) from exc
    except (OSError, ValueError) as exc:
        raise LibraryError(f"cannot read {path}: {exc}; compile the library again") from exc
    if not isinstance(data, dict) or data.get("kind") != "library":
        kind = data.get("kind") if isinstance(data, dict) else None
        raise LibraryError(
            f"{path} describes {kind or 'something else'!s}, not a library build "
            '(expected "kind": "library")'
        )
    name, version, digest = data.get("name"), data.get("version"), data.get("digest")
    if not isinstance(name, str) or not _NAME.match(name):
        raise LibraryError(f"{path}: 'name' must be a library name, found {name!r}")
    if not isinstance(version, str) or not is_semver(version):
        raise LibraryError(f"{path}: 'version' must be a semantic version, found {version!r}")
    if not isinstance(digest, str) or not digest.startswith("sha256:"):
        raise LibraryError(f"{path}: 'digest' must be 'sha256:<hex>', found {digest!r}")
    return data
