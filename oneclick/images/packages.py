"""The compiled app's runtime dependencies, installed into a directory for the base image.

``RUNTIME_REQUIREMENTS`` is what the generated server imports: Starlette, uvicorn,
SQLAlchemy, and psycopg with its binary build (the PostgreSQL driver). Two ways to get them:

- ``install_from_index(requirements, target, cache)``: wheels from the package index
  (``pip download --only-binary=:all:``), kept in ``cache/wheels/<key>/`` where the key
  hashes the requirements, the interpreter and the index options, so a rebuild asks the index
  nothing; then ``pip install --no-index --target --no-compile`` from that wheelhouse;
- ``copy_installed(requirements, target)``: the distributions installed in the environment
  running oneclick (the same versions the local runtime serves apps with), their files as
  their ``RECORD`` lists them; no network at all.

Both leave out console scripts (``bin/``: their ``#!`` line names this machine's interpreter)
and bytecode, and return the versions installed, by distribution name.
``pinned_requirements`` pins each requirement to the version installed here when there is one,
so both ways give the versions oneclick is tested with.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from oneclick.errors import BuildError

log = logging.getLogger(__name__)

RUNTIME_REQUIREMENTS: tuple[str, ...] = (
    "SQLAlchemy>=2.0,<2.2",
    "psycopg[binary]>=3.2,<4",
    "starlette>=0.40,<2",
    "uvicorn>=0.30,<1",
)
COMPLETE = ".complete"


def pinned_requirements(requirements: tuple[str, ...] = RUNTIME_REQUIREMENTS) -> list[str]:
    """Each requirement pinned (``==``) to the version installed here, if any and allowed."""
    pinned = []
    for text in requirements:
        requirement = Requirement(text)
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            pinned.append(text)
            continue
        if not requirement.specifier.contains(version, prereleases=True):
            pinned.append(text)
            continue
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        pinned.append(f"{requirement.name}{extras}=={version}")
    return pinned


def install_from_index(
    requirements: list[str],
    target: Path,
    cache: Path,
    *,
    index_options: tuple[str, ...] = (),
) -> dict[str, str]:
    """Install ``requirements`` into ``target`` from cached wheels; see the module docstring."""
    wheelhouse = _wheelhouse(requirements, cache, index_options)
    _pip(
        "install",
        "--no-index",
        "--find-links",
        str(wheelhouse),
        "--target",
        str(target),
        "--no-compile",
        "--no-warn-script-location",
        *requirements,
    )
    shutil.rmtree(target / "bin", ignore_errors=True)
    return installed_versions(target)


def _wheelhouse(requirements: list[str], cache: Path, index_options: tuple[str, ...]) -> Path:
    key_source = json.dumps([sys.version, sys.platform, sorted(requirements), index_options])
    key = hashlib.sha256(key_source.encode()).hexdigest()[:20]
    wheelhouse = cache / "wheels" / key
    if (wheelhouse / COMPLETE).is_file():
        log.info("runtime wheels from the cache %s", wheelhouse)
        return wheelhouse
    wheelhouse.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(dir=wheelhouse.parent, prefix=f".{key}-"))
    try:
        _pip("download", "--only-binary=:all:", "--dest", str(temp), *index_options, *requirements)
        (temp / COMPLETE).write_text("\n".join(sorted(requirements)) + "\n")
        shutil.rmtree(wheelhouse, ignore_errors=True)
        os.rename(temp, wheelhouse)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return wheelhouse


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args]
    env = {**os.environ, "PIP_NO_INPUT": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise BuildError(
            f"pip {args[0]} of the runtime packages failed (exit {done.returncode}):\n"
            f"{done.stderr.strip()[-2000:]}\ncheck that the package index is reachable, or "
            "use the packages installed here (--packages installed)"
        )


def copy_installed(requirements: list[str], target: Path) -> dict[str, str]:
    """Copy the installed distributions ``requirements`` need (with theirs) into ``target``."""
    versions: dict[str, str] = {}
    for dist in _closure(requirements):
        for file in dist.files or []:
            relative = Path(str(file))
            if relative.parts[0] == ".." or "__pycache__" in relative.parts:
                continue
            if relative.suffix in (".pyc", ".pyo"):
                continue
            source = Path(str(dist.locate_file(file)))
            if not source.is_file():
                continue
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
            shutil.copymode(source, destination)
        versions[dist.metadata["Name"]] = dist.version
    return dict(sorted(versions.items(), key=lambda item: item[0].lower()))


def _closure(requirements: list[str]) -> list[metadata.Distribution]:
    found: dict[str, metadata.Distribution] = {}
    pending = [Requirement(text) for text in requirements]
    seen_extras: set[tuple[str, str]] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        try:
            dist = found.get(name) or metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError as exc:
            raise BuildError(
                f"expected {requirement} installed in this environment ({sys.prefix}), found "
                "none; install it, or take the packages from the index (--packages index)"
            ) from exc
        if not requirement.specifier.contains(dist.version, prereleases=True):
            raise BuildError(
                f"expected {requirement}, found {dist.metadata['Name']} {dist.version} "
                f"installed in {sys.prefix}; install a matching version"
            )
        found[name] = dist
        for extra in ("", *sorted(requirement.extras)):
            if (name, extra) in seen_extras:
                continue
            seen_extras.add((name, extra))
            for text in dist.requires or []:
                needed = Requirement(text)
                if needed.marker is None or needed.marker.evaluate({"extra": extra}):
                    pending.append(needed)
    return [found[name] for name in sorted(found)]


def installed_versions(target: Path) -> dict[str, str]:
    """The distributions in ``target`` and their versions, from their ``METADATA``."""
    versions: dict[str, str] = {}
    for info in sorted(target.glob("*.dist-info")):
        fields = metadata.PathDistribution(info).metadata
        versions[fields["Name"]] = fields["Version"]
    return dict(sorted(versions.items(), key=lambda item: item[0].lower()))
