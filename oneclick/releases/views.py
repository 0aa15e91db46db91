"""The catalog's rows as frozen values: a release, and one deployment of it to a stage; and
the phases a deployment goes through. No SQLAlchemy here: the quick commands read these."""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from oneclick.releases.tables import Deployment, Release


class Phase(enum.StrEnum):
    """Where a deployment of a release to a stage stands.

    ``pending``: the rollout holds the stage and is planning; ``running``: its database
    scripts and deploy are under way. Then one terminal phase: ``succeeded``; ``failed``
    means the release is bad (it never became ready, its schema was refused); ``errored``
    means the infrastructure broke; ``aborted`` means its run was killed or cancelled before
    it finished. All three leave the previous release serving. ``undeployed`` marks the
    release that ran there as taken off the stage: nothing runs now.
    """

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ERRORED = "errored"
    ABORTED = "aborted"
    UNDEPLOYED = "undeployed"

    def is_terminal(self) -> bool:
        return self not in (Phase.PENDING, Phase.RUNNING)


class ReleaseView(BaseModel):
    model_config = ConfigDict(frozen=True)

    app: str
    version: str
    build_digest: str
    image_digest: str
    image_reference: str
    schema_fingerprint: str
    libraries: list[dict[str, str]]
    manifest: dict[str, Any]
    model: dict[str, Any]
    source_revision: str | None
    created_at: datetime
    source_path: str | None = None
    source_repository: str | None = None

    @classmethod
    def of(cls, row: Release) -> ReleaseView:
        return cls(
            app=row.app,
            version=row.version,
            build_digest=row.build_digest,
            image_digest=row.image_digest,
            image_reference=row.image_reference,
            schema_fingerprint=row.schema_fingerprint,
            libraries=json.loads(row.libraries),
            manifest=json.loads(row.manifest),
            model=json.loads(row.model),
            source_revision=row.source_revision,
            created_at=row.created_at,
            source_path=row.source_path,
            source_repository=row.source_repository,
        )


class DeploymentView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    app: str
    stage: str
    version: str
    image_digest: str
    schema_fingerprint: str
    phase: Phase
    flow_run_id: str | None
    url: str | None
    schema_changes: list[str]
    schema_script: str | None
    message: str | None
    started_at: datetime
    finished_at: datetime | None
    config_digest: str | None = None
    started_by: str | None = None
    override: str | None = None

    @classmethod
    def of(cls, row: Deployment) -> DeploymentView:
        return cls(
            id=row.id,
            app=row.app,
            stage=row.stage,
            version=row.release.version,
            image_digest=row.release.image_digest,
            schema_fingerprint=row.release.schema_fingerprint,
            phase=Phase(row.phase),
            flow_run_id=row.flow_run_id,
            url=row.url,
            schema_changes=json.loads(row.schema_changes),
            schema_script=row.schema_script,
            message=row.message,
            started_at=row.started_at,
            finished_at=row.finished_at,
            config_digest=row.config_digest,
            started_by=row.started_by,
            override=row.override,
        )
