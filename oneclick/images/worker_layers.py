"""What the worker image adds to the runtime base: its two layers' entries and its config.

- ``worker_requirements()``: oneclick's own requirements as installed metadata states them,
  without the ones whose markers do not hold here (the ``dev`` extra, other platforms);
- ``package_entries(installed, ...)``: the closure of those requirements, copied from this
  environment into ``/usr/local/lib/oneclick/worker-packages``; the ``prefect`` and
  ``oneclick`` commands in ``/usr/local/bin`` (run by the base's ``python3``, as a console
  script would be); the system libraries the packages' extensions need beyond the
  interpreter's; and ``/etc/oneclick/worker.json`` naming every version;
- ``source_entries(root)``: the project (``oneclick/``, ``flows/``, ``tasks/``, ``blocks/``,
  ``examples/``, ``prefect.yaml``, ``pyproject.toml``) under ``/opt/oneclick``, which is
  where the deployments' pull step (``$ONECLICK_SOURCE_DIR``) finds the flows;
- ``worker_config(base_config, diff_ids, versions)``: the base's config with these layers,
  ``PYTHONPATH`` led by the source and the packages, a scratch ``ONECLICK_HOME`` per
  container, ``WorkingDir /opt/oneclick`` and the ``Cmd`` that starts a worker of the
  ``oneclick`` pool (no ``Entrypoint``: a work pool's job replaces the command).
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import sys
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.requirements import Requirement

from oneclick.errors import BuildError
from oneclick.images.assemble import CREATED, KEPT_SETTINGS, parse_env
from oneclick.images.layers import LayerEntry, collect_tree
from oneclick.images.python_root import PREFIX, library_entries, shared_libraries

WORKER_REPOSITORY = "oneclick-worker"
PACKAGES_DIR = "usr/local/lib/oneclick/worker-packages"
SOURCE_DIR = "opt/oneclick"
SOURCE_DIRS = ("oneclick", "flows", "tasks", "blocks", "examples")
SOURCE_FILES = ("prefect.yaml", "pyproject.toml")
DESCRIPTION_PATH = "etc/oneclick/worker.json"
INTERPRETER = f"/{PREFIX}/bin/python3"  # where python_root puts the base's interpreter
SCRIPTS = {"oneclick": "oneclick.cli.main:main", "prefect": "prefect.cli:app"}
LOCAL_STATE_SUFFIXES = (".db", ".db-wal", ".db-shm")
WORKER_COMMAND = ("prefect", "worker", "start", "--pool", "oneclick")
WORKER_ENV = {"ONECLICK_SOURCE_DIR": f"/{SOURCE_DIR}", "ONECLICK_HOME": "/tmp/oneclick"}


def worker_requirements() -> list[str]:
    """oneclick's installed requirements that apply here, markers dropped once evaluated."""
    try:
        texts = metadata.requires("oneclick") or []
    except metadata.PackageNotFoundError as exc:
        raise BuildError(
            f"expected oneclick installed in this environment ({sys.prefix}), found no "
            "metadata for it; install it (pip install -e .) and build again"
        ) from exc
    kept: list[str] = []
    for text in texts:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        requirement.marker = None
        kept.append(str(requirement))
    return kept


def project_root() -> Path:
    """The checkout oneclick runs from: the directory holding the ``oneclick`` package."""
    import oneclick

    root = Path(oneclick.__file__).resolve().parents[1]
    missing = [
        name
        for name in (*SOURCE_DIRS, *SOURCE_FILES)
        if not (root / name).is_dir() and not (root / name).is_file()
    ]
    if missing:
        raise BuildError(
            f"expected oneclick's project at {root} (with {', '.join(SOURCE_DIRS)}, "
            f"{', '.join(SOURCE_FILES)}), found it without {', '.join(missing)}; build the "
            "worker image from a checkout installed with `pip install -e .`"
        )
    return root


def script(target: str) -> bytes:
    """A console script running ``module:function``, by the image's interpreter."""
    module, _, function = target.partition(":")
    return (
        f"#!{INTERPRETER}\nimport sys\nfrom {module} import {function}\n\n"
        f"if __name__ == '__main__':\n    sys.exit({function}())\n"
    ).encode()


def package_entries(
    installed: Path, versions: dict[str, str], base_libraries: list[str]
) -> list[LayerEntry]:
    """The packages, the two commands, extra system libraries and the description."""
    extensions = [path for path in sorted(installed.rglob("*.so*")) if path.is_file()]
    needed, _ = shared_libraries(extensions)
    inside = str(installed.resolve()) + "/"
    extra = {
        name: path
        for name, path in needed.items()
        if name not in base_libraries and not str(path).startswith(inside)
    }
    description = {
        "kind": "oneclick-worker",
        "name": WORKER_REPOSITORY,
        "python": ".".join(str(part) for part in sys.version_info[:3]),
        "packages": versions,
    }
    text = json.dumps(description, indent=2, sort_keys=True) + "\n"
    return [
        *collect_tree(installed, PACKAGES_DIR),
        *(
            LayerEntry(path=f"{PREFIX}/bin/{name}", data=script(target), executable=True)
            for name, target in sorted(SCRIPTS.items())
        ),
        *library_entries(extra),
        LayerEntry(path=DESCRIPTION_PATH, data=text.encode()),
    ]


def source_entries(root: Path) -> list[LayerEntry]:
    """The project's source under ``/opt/oneclick``: no bytecode, and none of the local state
    a checkout gathers (hidden files, ``*.egg-info``, SQLite databases), which would change
    the digest from one machine to the next."""
    entries = [LayerEntry(path=SOURCE_DIR, is_dir=True)]
    for name in SOURCE_DIRS:
        tree = collect_tree(root / name, f"{SOURCE_DIR}/{name}")
        entries += [entry for entry in tree if not _local_state(entry.path)]
    entries += [
        LayerEntry(path=f"{SOURCE_DIR}/{name}", source=root / name) for name in SOURCE_FILES
    ]
    return entries


def _local_state(path: str) -> bool:
    parts = PurePosixPath(path).parts
    hidden = any(part.startswith(".") or part.endswith(".egg-info") for part in parts)
    return hidden or parts[-1].endswith(LOCAL_STATE_SUFFIXES)


def worker_config(
    base_config: dict[str, Any], diff_ids: list[str], oneclick: str, prefect: str
) -> dict[str, Any]:
    """The worker image's config: the base's, with these layers and the worker's settings."""
    base = base_config.get("config") or {}
    env = parse_env(base.get("Env"))
    paths = [f"/{SOURCE_DIR}", f"/{PACKAGES_DIR}", *filter(None, [env.get("PYTHONPATH")])]
    env.update({**WORKER_ENV, "PYTHONPATH": ":".join(paths)})
    labels = {
        **(base.get("Labels") or {}),
        "dev.oneclick.worker.oneclick": oneclick,
        "dev.oneclick.worker.prefect": prefect,
        "org.opencontainers.image.title": WORKER_REPOSITORY,
        "org.opencontainers.image.version": oneclick,
    }
    settings: dict[str, Any] = {key: base[key] for key in KEPT_SETTINGS if key in base}
    settings.update(
        {
            "Cmd": list(WORKER_COMMAND),
            "Env": [f"{name}={value}" for name, value in sorted(env.items())],
            "Labels": dict(sorted(labels.items())),
            "WorkingDir": f"/{SOURCE_DIR}",
        }
    )
    history = [
        *(base_config.get("history") or []),
        {"created": CREATED, "created_by": f"oneclick worker packages: prefect {prefect}"},
        {"created": CREATED, "created_by": f"oneclick worker source: oneclick {oneclick}"},
    ]
    base_diff_ids = list((base_config.get("rootfs") or {}).get("diff_ids") or [])
    return {
        "architecture": base_config.get("architecture", "amd64"),
        "os": base_config.get("os", "linux"),
        "created": CREATED,
        "config": settings,
        "rootfs": {"type": "layers", "diff_ids": [*base_diff_ids, *diff_ids]},
        "history": history,
    }
