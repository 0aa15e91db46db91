"""A cache of written layers, keyed by what goes into them, for large layers built often.

``cached_layer(entries, cache)`` returns the ``LayerBlob`` of ``entries`` from ``cache`` when
a layer of exactly these entries was written before, and writes (then keeps) it otherwise.
The key hashes every entry's path, kind, mode, link target and content bytes, so a changed
file, even with an old timestamp, gives a new key; a hit skips only the compression, which is
what costs (hashing ~100 MB takes a fraction of a second, compressing it several seconds).
The cached file is checked against its recorded digest and size before use.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from oneclick.images.layers import LayerBlob, LayerEntry, with_parents, write_layer

READ_SIZE = 1 << 20


def layer_key(entries: list[LayerEntry]) -> str:
    """A hash of everything that decides a layer's bytes."""
    key = hashlib.sha256()
    for entry in with_parents(entries):
        head = [entry.path, entry.is_dir, entry.executable, entry.link, entry.mode]
        key.update(json.dumps(head).encode() + b"\0")
        if entry.data is not None:
            key.update(hashlib.sha256(entry.data).digest())
        elif entry.source is not None:
            key.update(_file_hash(entry.source))
    return key.hexdigest()


def cached_layer(entries: list[LayerEntry], cache: Path) -> LayerBlob:
    """The layer of ``entries``, from ``cache`` or newly written into it."""
    cache.mkdir(parents=True, exist_ok=True)
    key = layer_key(entries)
    blob_path, record_path = cache / f"{key}.tar.gz", cache / f"{key}.json"
    if blob_path.is_file() and record_path.is_file():
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if blob_path.stat().st_size == record["size"]:
            return LayerBlob(
                path=blob_path,
                digest=record["digest"],
                diff_id=record["diff_id"],
                size=record["size"],
            )
    handle, temp_name = tempfile.mkstemp(dir=cache, prefix=".layer-")
    os.close(handle)
    temp = Path(temp_name)
    try:
        blob = write_layer(entries, temp)
        os.replace(temp, blob_path)
    finally:
        temp.unlink(missing_ok=True)
    record = {"digest": blob.digest, "diff_id": blob.diff_id, "size": blob.size}
    record_path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return LayerBlob(path=blob_path, digest=blob.digest, diff_id=blob.diff_id, size=blob.size)


def _file_hash(path: Path) -> bytes:
    hashed = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(READ_SIZE):
            hashed.update(chunk)
    return hashed.digest()
