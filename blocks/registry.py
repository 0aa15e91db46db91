"""The registry block: where app images are pushed, with which credentials, built how.

One block document per registry (its name is the flows' choice, e.g. ``default``). The
password is stored encrypted and shown obfuscated in the UI; ``to_config`` turns the block
into the engine's plain ``RegistryConfig``.
"""

from __future__ import annotations

from typing import Literal

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from oneclick.registry import RegistryConfig


class Registry(Block):
    _block_type_name = "oneclick Registry"
    _block_type_slug = "oneclick-registry"
    _description = "An OCI registry app images are pushed to, and how they are built for it."

    url: str = Field(
        default="127.0.0.1:5000",
        description=(
            "The registry as host[:port], optionally with http:// or https://. "
            "Without a scheme HTTPS is used unless 'insecure' is set."
        ),
    )
    prefix: str = Field(
        default="",
        description="Repository prefix: an app's images go to <prefix>/<app> (e.g. 'team/apps').",
    )
    username: str | None = Field(
        default=None, description="User name for the registry; empty for an open registry."
    )
    password: SecretStr | None = Field(
        default=None, description="Password or token of that user. Never logged."
    )
    insecure: bool = Field(
        default=False,
        description="Speak plain HTTP (a registry on 127.0.0.1 or in a lab), not HTTPS.",
    )
    builder: Literal["daemonless", "docker"] = Field(
        default="daemonless",
        description=(
            "How images are built: 'daemonless' writes and pushes them itself (no Docker "
            "engine needed); 'docker' builds them through a Docker engine."
        ),
    )
    base_image: str = Field(
        default="",
        description=(
            "The runtime base image apps are built on: a reference (host/repo:tag or "
            "@sha256:...), one relative to this registry, or empty for the image "
            "`oneclick runtime build --push` puts at <prefix>/oneclick-runtime:python<X.Y>."
        ),
    )

    engine_url: str = Field(
        default="unix:///var/run/docker.sock",
        description="For builder 'docker': the Docker engine that builds (unix:// or tcp://).",
    )

    def to_config(self) -> RegistryConfig:
        return RegistryConfig(
            url=self.url,
            prefix=self.prefix,
            username=self.username or None,
            password=self.password,
            insecure=self.insecure,
            builder=self.builder,
            base_image=self.base_image,
            engine_url=self.engine_url,
        )
