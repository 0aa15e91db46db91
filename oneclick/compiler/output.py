"""Write a build directory: its files, then ``manifest.json`` with the content digest.

A build is written into a staging directory beside ``out`` and moved into place only when
complete, so ``out`` is either absent, or a whole build. ``out`` must be absent or empty.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from oneclick.compiler.digest import MANIFEST_NAME, content_digest
from oneclick.compiler.literals import json_document
from oneclick.errors import BuildError

log = logging.getLogger(__name__)


class CompileResult(BaseModel):
    """A finished build: where it is, its content digest and its manifest."""

    model_config = ConfigDict(frozen=True)

    path: Path
    digest: str
    manifest: dict[str, Any]


def write_build(out: Path, files: Mapping[str, bytes], manifest: dict[str, Any]) -> CompileResult:
    """Write ``files`` (relative posix path → bytes), then the manifest with ``digest``."""
    _check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for relative in sorted(files):
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files[relative])
        digest = content_digest(staging)
        complete = {**manifest, "digest": digest}
        (staging / MANIFEST_NAME).write_text(json_document(complete), encoding="utf-8")
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("wrote %s build %s to %s", manifest.get("kind"), digest, out)
    return CompileResult(path=out, digest=digest, manifest=complete)


def _check_target(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BuildError(
            f"expected {out} to be absent or an empty directory, found existing content; "
            "choose a new output directory or remove the old build first"
        )
