"""The content digest of a build directory, as every build manifest records it.

``content_digest(dir)`` = ``"sha256:"`` + the SHA-256 of the compact JSON array of
``[relative posix path, sha256 hex of the file's bytes]`` pairs, sorted by path, for every
file under ``dir`` except the top-level ``manifest.json`` and anything inside a
``__pycache__`` directory (Python writes those when a build is run in place). Directories
themselves, file modes and times do not count, so the digest depends on content only.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

MANIFEST_NAME = "manifest.json"
IGNORED_DIRECTORY = "__pycache__"


def content_files(path: Path) -> list[tuple[str, Path]]:
    """Every counted file under ``path`` as (relative posix path, absolute path), sorted."""
    found: list[tuple[str, Path]] = []
    for file in path.rglob("*"):
        relative = file.relative_to(path)
        if IGNORED_DIRECTORY in relative.parts or not file.is_file():
            continue
        if relative.as_posix() == MANIFEST_NAME:
            continue
        found.append((relative.as_posix(), file))
    return sorted(found)


def content_digest(path: Path) -> str:
    """The digest of the build directory at ``path`` (see the module docstring)."""
    pairs = [
        [relative, hashlib.sha256(file.read_bytes()).hexdigest()]
        for relative, file in content_files(path)
    ]
    encoded = json.dumps(pairs, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return "sha256:" + hashlib.sha256(encoded).hexdigest()
