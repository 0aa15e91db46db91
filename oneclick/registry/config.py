"""Where images are pushed, as a plain value: the engine's view of the registry block.

``url`` is ``host[:port]``, optionally with a scheme; ``http://`` or ``insecure=True`` means
plain HTTP (a registry on 127.0.0.1, a lab), anything else HTTPS. Repositories are named
``<prefix>/<app>`` (just ``<app>`` with no prefix). ``base_image`` names the runtime base
every app image starts from: a full reference (``host/repo:tag`` or ``...@sha256:...``), a
reference relative to this registry (``oneclick-runtime:python3.11``), or an OCI layout
(``oci-layout:/dir@sha256:...``); empty means the image ``oneclick runtime build --push``
puts into this registry by default, ``<host>/<prefix>/oneclick-runtime:python<X.Y>``.
The password never appears in ``repr`` or a log line.
"""

from __future__ import annotations

import re
import sys
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from oneclick.registry.reference import (
    COMPONENT,
    ImageReference,
    is_host,
    parse_image_reference,
)

BASE_REPOSITORY = "oneclick-runtime"
HOST = r"^[A-Za-z0-9.-]+(?::[0-9]{1,5})?$"


def base_tag(python: str | None = None) -> str:
    """The tag of the runtime base for a Python version (default: the running one)."""
    version = python or f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"python{version}"


class RegistryConfig(BaseModel):
    """An OCI registry images are pushed to, and how to build them for it."""

    model_config = ConfigDict(frozen=True)

    url: str = Field(description="host[:port], optionally with http:// or https://")
    prefix: str = Field(default="", description="repository prefix, e.g. 'team/apps'")
    username: str | None = None
    password: SecretStr | None = None
    insecure: bool = Field(default=False, description="plain HTTP instead of HTTPS")
    builder: Literal["daemonless", "docker"] = "daemonless"
    base_image: str = Field(default="", description="the runtime base; empty: the default")
    engine_url: str = Field(
        default="unix:///var/run/docker.sock", description="the Docker engine of builder 'docker'"
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        host = value.removeprefix("http://").removeprefix("https://").rstrip("/")
        if not re.match(HOST, host):
            raise ValueError(
                f"registry url {value!r} is not host[:port] (with an optional http:// or "
                "https://); a registry is addressed by host, repositories come from the prefix"
            )
        return value.rstrip("/")

    @field_validator("prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        value = value.strip("/")
        if value and not re.match(rf"^{COMPONENT}(?:/{COMPONENT})*$", value):
            raise ValueError(
                f"repository prefix {value!r} is not valid: lower-case letters, digits and "
                "'.', '_' or '-' between them, components joined by '/'"
            )
        return value

    @property
    def host(self) -> str:
        """``host[:port]`` as it appears in image references."""
        return self.url.removeprefix("http://").removeprefix("https://")

    @property
    def scheme(self) -> str:
        return "http" if self.insecure or self.url.startswith("http://") else "https"

    @property
    def api_url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def repository(self, name: str) -> str:
        """The repository an image named ``name`` (an app's name) is pushed to."""
        return f"{self.prefix}/{name}" if self.prefix else name

    def pinned(self, name: str, digest: str) -> str:
        """``host/<prefix>/name@digest``: how a release records its image."""
        return f"{self.host}/{self.repository(name)}@{digest}"

    def base_reference(self) -> str:
        """The runtime base to build on, as a full reference (or an ``oci-layout:`` one)."""
        if self.base_image.startswith("oci-layout:"):
            return self.base_image
        if not self.base_image:
            return f"{self.host}/{self.repository(BASE_REPOSITORY)}:{base_tag()}"
        first, slash, _ = self.base_image.partition("/")
        if slash and is_host(first):
            return self.base_image
        return f"{self.host}/{self.repository(self.base_image)}"

    def parse(self, reference: str) -> ImageReference:
        """``reference`` split into its parts, relative to this registry."""
        return parse_image_reference(reference, default_host=self.host)
