"""Deterministic image layers: the same files give the same bytes, wherever they come from.

A layer is a list of ``LayerEntry`` (directories, regular files and symbolic links, by path
inside the image) written as a gzip'd tar whose bytes depend only on the paths, the contents,
the link targets and whether a file is executable: entries sorted by path components, every
parent directory present, mtime 0, uid/gid 0, empty user and group names, mode 0755 for
directories and executables and 0644 for other files (unless an entry names its own mode, as
``/tmp`` does with 01777), PAX format, and a gzip header with mtime 0 and no file name.

``collect_tree`` turns a build directory into entries under a prefix (``app``,
``libs/<name>``). It refuses symbolic links and special files (a build holds plain files) and
leaves out ``__pycache__`` directories and ``*.pyc`` files, which differ between machines.
``write_layer`` streams the tar once, hashing both the uncompressed stream (the ``diff_id``)
and the compressed one (the layer digest).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, cast

from oneclick.errors import BuildError

GZIP_LEVEL = 6
SKIPPED_DIRS = frozenset({"__pycache__"})
SKIPPED_SUFFIXES = (".pyc",)


@dataclass(frozen=True)
class LayerEntry:
    """One directory, regular file or symbolic link (``link``: its target) of a layer.

    ``path`` is relative, in posix form; ``mode`` overrides the default permission bits.
    """

    path: str
    is_dir: bool = False
    source: Path | None = None
    data: bytes | None = None
    executable: bool = False
    link: str | None = None
    mode: int | None = None

    @property
    def sort_key(self) -> tuple[str, ...]:
        return PurePosixPath(self.path).parts


@dataclass(frozen=True)
class LayerBlob:
    """A written layer: the compressed file, its digest, size, and uncompressed digest."""

    path: Path
    digest: str
    diff_id: str
    size: int


class _HashingWriter:
    """A write-only stream that hashes and counts what passes through to ``target``."""

    def __init__(self, target: IO[bytes]) -> None:
        self._target = target
        self.hash = hashlib.sha256()
        self.count = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.count += len(data)
        self._target.write(data)
        return len(data)

    def tell(self) -> int:
        return self.count

    def flush(self) -> None:
        return None


def collect_tree(source: Path, prefix: str) -> list[LayerEntry]:
    """Every directory and file under ``source``, placed under ``prefix`` in the image."""
    if not source.is_dir():
        raise BuildError(
            f"expected a build directory at {source}, found "
            f"{'a file' if source.exists() else 'nothing'}; build it first"
        )
    entries = [LayerEntry(path=prefix, is_dir=True)]
    for directory, dirnames, filenames in os.walk(source):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        here = Path(directory)
        relative = here.relative_to(source).as_posix()
        base = prefix if relative == "." else f"{prefix}/{relative}"
        for name in dirnames:
            _check_plain(here / name, want_dir=True)
            entries.append(LayerEntry(path=f"{base}/{name}", is_dir=True))
        for name in sorted(filenames):
            if name.endswith(SKIPPED_SUFFIXES):
                continue
            mode = _check_plain(here / name, want_dir=False)
            entries.append(
                LayerEntry(
                    path=f"{base}/{name}",
                    source=here / name,
                    executable=bool(mode & 0o111),
                )
            )
    return entries


def _check_plain(path: Path, *, want_dir: bool) -> int:
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        raise BuildError(
            f"found a symbolic link at {path}; a build directory must hold plain files and "
            "directories only: copy the file instead of linking it"
        )
    if want_dir and not stat.S_ISDIR(info.st_mode):
        raise BuildError(f"expected a directory at {path}, found something else")
    if not want_dir and not stat.S_ISREG(info.st_mode):
        raise BuildError(
            f"found a special file at {path}; a build directory must hold plain files only"
        )
    return info.st_mode


def with_parents(entries: list[LayerEntry]) -> list[LayerEntry]:
    """``entries`` plus a directory entry for every missing parent, sorted by path parts."""
    by_path = {entry.path: entry for entry in entries}
    for entry in entries:
        for parent in PurePosixPath(entry.path).parents:
            key = parent.as_posix()
            if key != "." and key not in by_path:
                by_path[key] = LayerEntry(path=key, is_dir=True)
    return sorted(by_path.values(), key=lambda e: e.sort_key)


def write_layer(entries: list[LayerEntry], target: Path) -> LayerBlob:
    """Write ``entries`` (with their parents) as a deterministic gzip'd tar at ``target``."""
    with target.open("wb") as raw:
        compressed = _HashingWriter(raw)
        with gzip.GzipFile(
            filename="",
            mode="wb",
            compresslevel=GZIP_LEVEL,
            fileobj=cast(IO[bytes], compressed),
            mtime=0,
        ) as gz:
            plain = _HashingWriter(cast(IO[bytes], gz))
            stream = cast(IO[bytes], plain)
            with tarfile.TarFile(fileobj=stream, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for entry in with_parents(entries):
                    _add_entry(tar, entry)
        raw.flush()
        os.fsync(raw.fileno())
    return LayerBlob(
        path=target,
        digest="sha256:" + compressed.hash.hexdigest(),
        diff_id="sha256:" + plain.hash.hexdigest(),
        size=compressed.count,
    )


def _add_entry(tar: tarfile.TarFile, entry: LayerEntry) -> None:
    info = tarfile.TarInfo(entry.path)
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if entry.is_dir:
        info.type = tarfile.DIRTYPE
        info.mode = 0o755 if entry.mode is None else entry.mode
        tar.addfile(info)
        return
    if entry.link is not None:
        info.type = tarfile.SYMTYPE
        info.linkname = entry.link
        info.mode = 0o777
        tar.addfile(info)
        return
    info.type = tarfile.REGTYPE
    info.mode = entry.mode if entry.mode is not None else 0o755 if entry.executable else 0o644
    if entry.data is not None:
        info.size = len(entry.data)
        tar.addfile(info, io.BytesIO(entry.data))
        return
    assert entry.source is not None, f"layer entry {entry.path} has neither data nor source"
    with entry.source.open("rb") as handle:
        info.size = os.fstat(handle.fileno()).st_size
        tar.addfile(info, handle)
