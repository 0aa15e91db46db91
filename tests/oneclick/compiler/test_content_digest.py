"""content_digest: the contract every build manifest relies on."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from oneclick.compiler import content_digest


def write(root: Path, files: dict[str, bytes]) -> Path:
    for relative, data in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


def by_hand(files: dict[str, bytes]) -> str:
    """The brief's definition, spelled out: sorted (path, sha256) pairs, hashed as JSON."""
    pairs = sorted([path, hashlib.sha256(data).hexdigest()] for path, data in files.items())
    text = json.dumps(pairs, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


FILES = {"b.txt": b"bee", "a/z.py": b"print(1)\n", "a/y/x.css": b"", "é.js": "ü".encode()}


def test_digest_follows_the_documented_definition(tmp_path: Path) -> None:
    root = write(tmp_path / "build", FILES)
    assert content_digest(root) == by_hand(FILES)


def test_same_content_in_another_place_has_the_same_digest(tmp_path: Path) -> None:
    first = write(tmp_path / "one", FILES)
    second = write(tmp_path / "two", dict(reversed(list(FILES.items()))))
    (second / "empty-directory").mkdir()
    assert content_digest(first) == content_digest(second)


def test_top_level_manifest_and_bytecode_do_not_count(tmp_path: Path) -> None:
    root = write(tmp_path / "build", FILES)
    before = content_digest(root)
    write(root, {"manifest.json": b"{}", "a/__pycache__/z.cpython-311.pyc": b"\0"})
    assert content_digest(root) == before
    write(root, {"a/manifest.json": b"{}"})
    assert content_digest(root) != before


def test_any_change_of_bytes_or_names_changes_the_digest(tmp_path: Path) -> None:
    root = write(tmp_path / "build", FILES)
    before = content_digest(root)
    (root / "b.txt").write_bytes(b"bee ")
    changed = content_digest(root)
    assert changed != before
    (root / "b.txt").write_bytes(b"bee")
    assert content_digest(root) == before
    (root / "b.txt").rename(root / "c.txt")
    assert content_digest(root) not in (before, changed)
    assert content_digest(root).startswith("sha256:") and len(content_digest(root)) == 71
