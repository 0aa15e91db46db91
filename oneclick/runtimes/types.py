"""The interface every stage runtime meets, and the values it takes and returns.

A runtime runs one release of an app per stage, reached at one ``url`` per (stage, app) that
stays across releases (the local and docker runtimes put a small proxy there; Kubernetes a
Service). ``deploy`` starts the release from its image
(named by layout root and digest, or by ``image_reference`` for a container engine), waits
until its ``/readyz`` answers 200, and only then retires the release it replaces; a release
that never gets ready is stopped and the previous one keeps serving (``DeployError``).
A request's ``hold`` keeps the switch waiting (the database scripts are still running) and
its ``abort`` ends the wait. ``status``/``instances`` report what runs and whether it is
alive and healthy; ``stop`` ends a process but keeps its record; ``undeploy`` ends it and
forgets it; ``stop_all`` stops every instance, orphans included (``oneclick down``);
``reap`` stops what a killed deploy of (stage, app) left behind and says what it stopped.

``DeployRequest.env`` carries settings, secrets and ``ONECLICK_DATABASE_URL``: it is left out
of ``repr`` and a runtime passes it to the app's environment only, never to a file, a log
line or an error message.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

STAGE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
APP_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
RELEASE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$"
DIGEST = r"^sha256:[a-f0-9]{64}$"

ProgressCallback = Callable[[str], None]
AbortCheck = Callable[[], str | None]
HoldCheck = Callable[[], bool]


class DeployRequest(BaseModel):
    """Run release ``release`` of ``app`` on ``stage`` from image ``image_digest``."""

    model_config = ConfigDict(frozen=True)

    stage: str = Field(pattern=STAGE_NAME)
    app: str = Field(pattern=APP_NAME)
    release: str = Field(pattern=RELEASE_NAME, description="the release version")
    image_root: Path = Field(description="the OCI image layout holding the image")
    image_digest: str = Field(pattern=DIGEST)
    image_reference: str | None = Field(
        default=None,
        description="where an engine finds the image: a registry reference pinned by digest "
        "(host/repo@sha256:...) or an engine image ID; runtimes that run from the layout "
        "ignore it",
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        repr=False,
        description="settings, secrets and the database URL: for the app's environment only",
    )
    ready_timeout: float = Field(default=60.0, gt=0, description="seconds to wait for /readyz")
    flow_run: str | None = Field(default=None, description="the flow run deploying, if any")
    on_progress: ProgressCallback | None = Field(default=None, repr=False, exclude=True)
    abort: AbortCheck | None = Field(
        default=None,
        repr=False,
        exclude=True,
        description="asked while waiting: a reason to give up now (e.g. the schema failed)",
    )
    hold: HoldCheck | None = Field(
        default=None,
        repr=False,
        exclude=True,
        description="asked before the switch: while true, the new instance may start but "
        "must not replace the previous one (the database scripts are still running)",
    )


class DeployResult(BaseModel):
    """A release that became ready on a stage, and the release it replaced."""

    model_config = ConfigDict(frozen=True)

    stage: str
    app: str
    release: str
    digest: str
    url: str
    pid: int
    port: int
    started_at: str
    log: Path
    previous_release: str | None = None
    container: str | None = Field(default=None, description="the container ID, if any")
    instance: str | None = Field(default=None, description="e.g. deployment/<namespace>/<name>")
    instance_url: str | None = Field(
        default=None,
        description="the instance's own address, behind the stable stage address ``url`` "
        "(which a proxy forwards to it); None when ``url`` is the instance's",
    )


class InstanceStatus(BaseModel):
    """What a runtime knows about the instance of an app on a stage, checked just now."""

    model_config = ConfigDict(frozen=True)

    stage: str
    app: str
    release: str
    digest: str
    url: str
    pid: int
    port: int
    started_at: str
    alive: bool = Field(description="the recorded process exists (and is ours)")
    healthy: bool = Field(description="its /healthz answered 200 (or: all replicas available)")
    container: str | None = Field(default=None, description="the container ID, if any")
    instance: str | None = Field(default=None, description="e.g. deployment/<namespace>/<name>")
    instance_url: str | None = Field(
        default=None,
        description="the instance's own address, behind the stable stage address ``url`` "
        "(which a proxy forwards to it); None when ``url`` is the instance's",
    )


class Runtime(Protocol):
    """Where a stage runs its apps."""

    def deploy(self, request: DeployRequest) -> DeployResult: ...

    def status(self, stage: str, app: str) -> InstanceStatus | None: ...

    def instances(self) -> list[InstanceStatus]: ...

    def stop(self, stage: str, app: str) -> bool: ...

    def stop_all(self) -> list[InstanceStatus]: ...

    def undeploy(self, stage: str, app: str) -> bool: ...

    def reap(self, stage: str, app: str) -> list[str]: ...
