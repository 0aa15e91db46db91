"""What a rollout reports: the release on the stage now, and what it took to get there."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RolloutResult(BaseModel):
    """A release that serves on a stage. ``unchanged``: it already did, healthy, with this
    configuration, so nothing was built, applied or restarted."""

    model_config = ConfigDict(frozen=True)

    app: str
    version: str
    stage: str
    url: str
    image_digest: str
    image_reference: str
    schema_changes: list[str]
    schema_script: str = ""
    drift: list[str] = []
    unchanged: bool = False
    deployment_id: int | None = None
