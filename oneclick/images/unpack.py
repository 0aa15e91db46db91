"""Unpack an image of an OCI layout into a directory: safely, verified, all or nothing.

``unpack_image(root, digest, dest)`` extracts the image's layers in order into a temporary
directory beside ``dest`` and renames it to ``dest`` only when every layer was read in full
and hashed to its digest (compressed) and its diff_id (uncompressed). ``dest`` then holds a
marker, ``.oneclick-image``, naming the digest; if ``dest`` already exists with that marker
it is reused as it is, which makes unpacking a cache keyed by digest (and safe to race: the
loser of two concurrent unpacks drops its copy and takes the winner's).

Entries are refused, failing the whole unpack with a ``BuildError``, when they would land
outside ``dest``: absolute paths, ``..`` components, symbolic links whose target is absolute
or climbs out, hard links to outside, or a path reached through such a link. Device nodes
and FIFOs are refused too. Whiteouts (``.wh.<name>``, ``.wh..wh..opq``) remove what lower
layers left. Modes keep the permission bits only (no setuid, setgid or sticky bits);
ownership is not restored.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

from oneclick.errors import BuildError
from oneclick.images.reading import open_image
from oneclick.images.spec import LAYER_MEDIA_TYPE
from oneclick.images.store import LayoutStore

log = logging.getLogger(__name__)

MARKER = ".oneclick-image"
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
CHUNK = 1 << 20


class _HashingReader:
    """A read-only stream that hashes and counts what is read from ``source``."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self.hash = hashlib.sha256()
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self.hash.update(data)
        self.count += len(data)
        return data

    def drain(self) -> None:
        while self.read(CHUNK):
            pass

    @property
    def digest(self) -> str:
        return "sha256:" + self.hash.hexdigest()


def unpack_image(root: Path, digest: str, dest: Path) -> Path:
    """Extract image ``digest`` of the layout at ``root`` into ``dest``; returns ``dest``."""
    dest = dest.absolute()
    if _unpacked_digest(dest) == digest:
        return dest
    if dest.exists():
        raise BuildError(
            f"expected {dest} to be free or to hold image {digest}, found something else; "
            "remove it or unpack elsewhere"
        )
    image = open_image((root, digest))
    store = LayoutStore(image.root)
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.tmp-"))
    try:
        for layer, diff_id in zip(image.layers, image.diff_ids, strict=True):
            _extract_layer(store, layer, diff_id, temp)
        _check_links(temp)
        (temp / MARKER).write_text(json.dumps({"digest": digest}) + "\n", encoding="utf-8")
        os.chmod(temp, 0o755)
        try:
            os.rename(temp, dest)
        except OSError:
            if _unpacked_digest(dest) != digest:
                raise
            log.debug("image %s was unpacked into %s concurrently; reusing it", digest, dest)
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)
    log.info("unpacked image %s into %s", digest, dest)
    return dest


def _unpacked_digest(dest: Path) -> str | None:
    try:
        return str(json.loads((dest / MARKER).read_text(encoding="utf-8"))["digest"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _extract_layer(store: LayoutStore, layer: dict[str, Any], diff_id: str, dest: Path) -> None:
    digest = str(layer["digest"])
    path = store.blob_path(digest)
    try:
        raw_file = path.open("rb")
    except FileNotFoundError as exc:
        raise BuildError(
            f"expected layer {digest} in {store.root}, found none; build the image again"
        ) from exc
    with raw_file:
        raw = _HashingReader(raw_file)
        if layer.get("mediaType") == LAYER_MEDIA_TYPE:
            stream = cast(IO[bytes], gzip.GzipFile(fileobj=cast(IO[bytes], raw), mode="rb"))
        else:
            stream = cast(IO[bytes], raw)
        plain = _HashingReader(stream)
        try:
            with tarfile.open(fileobj=cast(IO[bytes], plain), mode="r|") as tar:
                _extract_members(tar, dest)
            plain.drain()
            raw.drain()
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise BuildError(f"layer {digest} in {store.root} cannot be read: {exc}") from exc
    if raw.digest != digest or raw.count != layer.get("size", raw.count):
        raise BuildError(
            f"layer blob {path} should hash to {digest} ({layer.get('size')} bytes) but "
            f"hashes to {raw.digest} ({raw.count} bytes); delete it and build the image again"
        )
    if plain.digest != diff_id:
        raise BuildError(
            f"layer {digest} in {store.root} should unpack to {diff_id} but unpacks to "
            f"{plain.digest}; the image config does not match its layers"
        )


def _extract_members(tar: tarfile.TarFile, dest: Path) -> None:
    real_dest = os.path.realpath(dest)
    written: set[str] = set()
    for member in tar:
        parts = _safe_parts(member.name)
        if not parts:
            continue
        name = parts[-1]
        if name == OPAQUE:
            _clear_directory(dest.joinpath(*parts[:-1]), real_dest, parts[:-1], written)
            continue
        if name.startswith(WHITEOUT):
            target = _target(dest, real_dest, (*parts[:-1], name.removeprefix(WHITEOUT)))
            _remove(target)
            continue
        target = _target(dest, real_dest, parts)
        _place(tar, member, target, dest, real_dest)
        written.add("/".join(parts))


def _safe_parts(name: str) -> tuple[str, ...]:
    if name.startswith("/") or "\\" in name or "\0" in name:
        raise BuildError(f"refusing layer entry {name!r}: absolute or malformed path")
    parts = tuple(part for part in PurePosixPath(name).parts if part != ".")
    if ".." in parts:
        raise BuildError(f"refusing layer entry {name!r}: it climbs out with '..'")
    return parts


def _target(dest: Path, real_dest: str, parts: tuple[str, ...]) -> Path:
    """Where ``parts`` lands, after checking its parent does not resolve outside ``dest``."""
    target = dest.joinpath(*parts)
    if not _inside(os.path.realpath(target.parent), real_dest):
        raise BuildError(
            f"refusing layer entry {'/'.join(parts)!r}: it is reached through a link "
            "that leads outside the image"
        )
    return target


def _place(
    tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path, dest: Path, real_dest: str
) -> None:
    mode = member.mode & 0o777
    if member.isdir():
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            _remove(target)
        target.mkdir(parents=True, exist_ok=True)
        os.chmod(target, mode | 0o700)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove(target)
    if member.isreg():
        source = tar.extractfile(member)
        assert source is not None, f"a regular file entry {member.name} has no data"
        with target.open("xb") as handle:
            shutil.copyfileobj(source, handle, CHUNK)
        os.chmod(target, mode | 0o600)
    elif member.issym():
        _check_link_target(member, target, real_dest)
        os.symlink(member.linkname, target)
    elif member.islnk():
        source_path = _target(dest, real_dest, _safe_parts(member.linkname))
        if source_path.is_symlink() or not source_path.is_file():
            raise BuildError(
                f"refusing hard link {member.name!r}: its target {member.linkname!r} "
                "is not a file unpacked before it"
            )
        os.link(source_path, target)
    else:
        raise BuildError(
            f"refusing layer entry {member.name!r}: devices, FIFOs and other special "
            "files are not unpacked"
        )


def _check_link_target(member: tarfile.TarInfo, target: Path, real_dest: str) -> None:
    link = member.linkname
    if not link or link.startswith("/"):
        raise BuildError(
            f"refusing symbolic link {member.name!r} -> {link!r}: an absolute target would "
            "point outside the image once unpacked"
        )
    resolved = os.path.realpath(os.path.join(os.path.realpath(target.parent), link))
    if not _inside(resolved, real_dest):
        raise BuildError(
            f"refusing symbolic link {member.name!r} -> {link!r}: it leads outside the image"
        )


def _check_links(dest: Path) -> None:
    """Refuse the image if any link, as finally unpacked, resolves outside ``dest``."""
    real_dest = os.path.realpath(dest)
    for directory, dirnames, filenames in os.walk(dest):
        for name in (*dirnames, *filenames):
            path = os.path.join(directory, name)
            if os.path.islink(path) and not _inside(os.path.realpath(path), real_dest):
                relative = os.path.relpath(path, dest)
                raise BuildError(
                    f"refusing the image: symbolic link {relative!r} -> "
                    f"{os.readlink(path)!r} leads outside it"
                )


def _inside(path: str, real_dest: str) -> bool:
    return path == real_dest or path.startswith(real_dest + os.sep)


def _remove(target: Path) -> None:
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    elif target.exists():
        target.unlink()


def _clear_directory(
    directory: Path, real_dest: str, parts: tuple[str, ...], written: set[str]
) -> None:
    """An opaque whiteout: drop what lower layers put in ``directory``."""
    if not directory.is_dir() or not _inside(os.path.realpath(directory), real_dest):
        return
    prefix = "/".join(parts)
    for child in directory.iterdir():
        key = f"{prefix}/{child.name}" if prefix else child.name
        if key not in written:
            _remove(child)
