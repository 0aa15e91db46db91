"""What an image build is asked for, what it returns, and the interface every builder meets.

An ``ImageSpec`` names one compiled app build and the library builds bundled with it. Every
backend (an OCI layout, a registry; a Docker engine later) turns it into the
same filesystem: ``/app/`` holds the app build, ``/libs/<name>/`` each library build, on top
of a runtime base layer, and returns an ``ImageResult`` addressed by the manifest digest.

``env`` holds non-secret defaults only: a name starting with ``ONECLICK_SECRET_`` is refused,
because an image is readable by anyone who can pull it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

REPOSITORY_NAME = r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$"
TAG_NAME = r"^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}$"
LIBRARY_DIR_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
DIGEST = r"^sha256:[a-f0-9]{64}$"
SECRET_PREFIX = "ONECLICK_SECRET_"

MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
LAYER_TAR_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar"
REF_NAME = "org.opencontainers.image.ref.name"

APP_PORT = 8080
APP_COMMAND = (
    "python",
    "-m",
    "uvicorn",
    "--app-dir",
    "/app",
    "server.main:app",
    "--host",
    "0.0.0.0",
    "--port",
    str(APP_PORT),
)


class ImageSpec(BaseModel):
    """One image to build: an app build plus the library builds it bundles."""

    model_config = ConfigDict(frozen=True)

    repository: str = Field(pattern=REPOSITORY_NAME, description="the app's name")
    tag: str = Field(pattern=TAG_NAME, description="the release version")
    app_build: Path = Field(description="the compiled app build directory")
    library_builds: Sequence[tuple[str, Path]] = Field(
        default=(), description="(library name, build directory) for every bundled library"
    )
    labels: dict[str, str] = Field(default_factory=dict)
    env: dict[str, str] = Field(default_factory=dict, description="non-secret defaults only")

    @field_validator("library_builds")
    @classmethod
    def _check_libraries(cls, value: Sequence[tuple[str, Path]]) -> tuple[tuple[str, Path], ...]:
        names = [name for name, _ in value]
        for name in names:
            if not re.match(LIBRARY_DIR_NAME, name):
                raise ValueError(
                    f"library name {name!r} cannot name a directory under /libs/: "
                    f"expected {LIBRARY_DIR_NAME}"
                )
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"library {', '.join(duplicates)} is listed more than once")
        return tuple((name, Path(path)) for name, path in value)

    @field_validator("env")
    @classmethod
    def _check_env(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not name or "=" in name or "\0" in name:
                raise ValueError(f"environment variable name {name!r} is not valid")
            if name.startswith(SECRET_PREFIX):
                raise ValueError(
                    f"{name} is a secret and must not be written into an image; "
                    "pass it to the runtime when deploying instead"
                )
        return value

    @model_validator(mode="after")
    def _check_ref_name(self) -> ImageSpec:
        if len(self.ref_name) > 255:
            raise ValueError(f"image name {self.ref_name!r} is longer than 255 characters")
        return self

    @property
    def ref_name(self) -> str:
        """The name the image is tagged with in a layout: ``<repository>:<tag>``."""
        return f"{self.repository}:{self.tag}"


class ImageResult(BaseModel):
    """A built image, addressed by the digest of its manifest."""

    model_config = ConfigDict(frozen=True)

    repository: str
    tag: str
    digest: str = Field(pattern=DIGEST, description="sha256 of the manifest")
    reference: str = Field(description="where the image is, pinned by digest")
    config_digest: str = Field(pattern=DIGEST)
    layers: list[str] = Field(description="layer digests, base first")
    size: int = Field(description="bytes of every blob of the image: manifest, config, layers")
    uploaded: int = Field(default=0, description="blobs sent to a registry by this build")
    uploaded_bytes: int = Field(default=0, description="bytes of the blobs sent")
    mounted: int = Field(default=0, description="blobs mounted from another repository")


class ImageBuilder(Protocol):
    """Turns an ``ImageSpec`` into an image and says where it is."""

    def build(self, spec: ImageSpec) -> ImageResult: ...
