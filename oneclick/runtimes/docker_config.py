"""How a ``docker`` stage reaches its engine and runs its containers (no Docker SDK import, so
stage configurations can hold it cheaply)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DockerRuntimeConfig(BaseModel):
    """Where and how a stage runs its containers."""

    model_config = ConfigDict(frozen=True)

    engine_url: str = Field(default="unix:///var/run/docker.sock", description="the engine API")
    network: str = Field(default="host", description="the containers' network mode")
    host: str = Field(default="127.0.0.1", description="where apps listen and are reached")
    port_range: tuple[int, int] = Field(default=(18000, 18999))
    namespace: str = Field(default="oneclick", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    volumes: tuple[str, ...] = Field(
        default=(), description="host directories mounted at the same path (e.g. SQLite files)"
    )
    stop_timeout: int = Field(default=10, ge=0)
    poll_interval: float = Field(default=0.2, gt=0)
    drain: float = Field(
        default=1.0,
        ge=0,
        description="seconds the previous container keeps serving after the switch",
    )

    @model_validator(mode="after")
    def _check_ports(self) -> DockerRuntimeConfig:
        low, high = self.port_range
        if not 1024 <= low <= high <= 65535:
            raise ValueError(f"port range {low}-{high} must lie within 1024-65535, low first")
        return self
