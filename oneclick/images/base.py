"""The runtime base of every app image: what it holds and how it describes itself.

A builder asks a ``BaseFactory`` for a ``BaseLayer`` and puts it first in the image. The
embedded default, ``embedded_base``, is a small layer holding ``/etc/oneclick/base.json``,
which names the runtime the compiled app needs: the Python version (major.minor, the host
interpreter's, since the local runtime serves the app with it) and the Python packages
(with the version ranges oneclick itself is tested with). The full base image, with Python
itself, is ``oneclick runtime build``'s (``oneclick.images.runtime_image``); registry
builds start from it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from oneclick.images.layers import LayerEntry

BASE_DESCRIPTION_PATH = "etc/oneclick/base.json"
RUNTIME_PACKAGES: dict[str, str] = {
    "SQLAlchemy": ">=2.0,<2.2",
    "starlette": ">=0.40,<2",
    "uvicorn": ">=0.30,<1",
}
BASE_ENV: dict[str, str] = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
}


class BaseLayer(BaseModel):
    """The first layer of an app image: its files, its environment and its history line."""

    model_config = ConfigDict(frozen=True)

    name: str
    files: dict[str, bytes]
    env: dict[str, str]
    created_by: str

    def entries(self) -> list[LayerEntry]:
        """The layer's files as entries (their parent directories are added when written)."""
        return [LayerEntry(path=path, data=data) for path, data in sorted(self.files.items())]


BaseFactory = Callable[[], BaseLayer]


def host_python_version() -> str:
    """The running interpreter's version as ``major.minor``."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def embedded_base(python: str | None = None) -> BaseLayer:
    """The default base: a description of the runtime, no interpreter of its own."""
    version = python or host_python_version()
    description = {
        "kind": "oneclick-base",
        "name": "oneclick-embedded",
        "python": version,
        "packages": RUNTIME_PACKAGES,
    }
    text = json.dumps(description, indent=2, sort_keys=True) + "\n"
    packages = ", ".join(f"{name}{spec}" for name, spec in sorted(RUNTIME_PACKAGES.items()))
    return BaseLayer(
        name="oneclick-embedded",
        files={BASE_DESCRIPTION_PATH: text.encode("utf-8")},
        env=dict(BASE_ENV),
        created_by=f"oneclick base: python {version}; {packages}",
    )
