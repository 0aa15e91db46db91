"""The steps of a rollout that touch the stage, behind one small interface.

The engine (``oneclick.rollout.engine``) decides what happens and records it; a
``RolloutSteps`` does each step. ``DirectSteps`` calls the data tool and the runtime in this
process (threads for the two concurrent steps); the flows give the engine steps that run as
Prefect tasks, with retries and the plan artifact, so a person sees each step in the UI.
``widen`` and ``deploy`` start their step and return at once with something whose
``result()`` waits for it and raises what it raised.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, TypeVar

from oneclick.compiler.schema import app_metadata
from oneclick.data import SchemaChange, SchemaPlan, SchemaResult, apply_schema, plan_schema
from oneclick.model.types import AppModel
from oneclick.releases import DeploymentView, ReleaseView
from oneclick.rollout.result import RolloutResult
from oneclick.runtimes import DeployRequest, DeployResult, Runtime
from oneclick.runtimes.types import AbortCheck, HoldCheck
from oneclick.stages import StageConfig

T = TypeVar("T", covariant=True)


class Pending(Protocol[T]):
    def result(self) -> T: ...


class RolloutSteps(Protocol):
    def plan(self) -> SchemaPlan:
        """What the database scripts will change; raises SchemaError if a change is refused."""
        ...

    def widen(self, plan: SchemaPlan) -> Pending[SchemaResult]:
        """Start running the database scripts of ``plan`` (expand only)."""
        ...

    def deploy(self, hold: HoldCheck, abort: AbortCheck) -> Pending[DeployResult]:
        """Start the release on the stage; it replaces the previous instance only once it is
        ready and ``hold()`` is false, and gives up when ``abort()`` gives a reason."""
        ...

    def settle(self, aborted: list[DeploymentView]) -> None:
        """Tell the orchestrator that these attempts' runs are over (found stale)."""
        ...

    def report(
        self, result: RolloutResult, changes: list[SchemaChange], drift: list[SchemaChange]
    ) -> None:
        """Leave the outcome for people (a run artifact)."""
        ...


def deploy_request(
    release: ReleaseView,
    stage: StageConfig,
    image: tuple[Path, str | None],
    hold: HoldCheck,
    abort: AbortCheck,
    **extra: object,
) -> DeployRequest:
    """The runtime's request for ``release`` on ``stage``: the stage's environment (secrets
    included) goes here and nowhere else."""
    root, reference = image
    return DeployRequest.model_validate(
        {
            "stage": stage.name,
            "app": release.app,
            "release": release.version,
            "image_root": root,
            "image_digest": release.image_digest,
            "image_reference": reference,
            "env": stage.environment(release.manifest),
            "hold": hold,
            "abort": abort,
            **extra,
        }
    )


class DirectSteps:
    """Every step in this process: the data tool, then the stage's runtime."""

    def __init__(
        self,
        release: ReleaseView,
        stage: StageConfig,
        runtime: Runtime,
        locate: Callable[[], tuple[Path, str | None]],
        *,
        ready_timeout: float = 60.0,
    ) -> None:
        self.release, self.stage, self.runtime, self.locate = release, stage, runtime, locate
        self.ready_timeout = ready_timeout
        self.metadata = app_metadata(AppModel.model_validate(release.model))
        self.url = stage.database_url_for(release.app)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="rollout")

    def plan(self) -> SchemaPlan:
        return plan_schema(self.url, self.metadata, self.release.schema_fingerprint)

    def widen(self, plan: SchemaPlan) -> Future[SchemaResult]:
        return self._pool.submit(
            apply_schema,
            self.url,
            self.metadata,
            self.release.schema_fingerprint,
            app=self.release.app,
            release=self.release.version,
            plan=plan,
        )

    def deploy(self, hold: HoldCheck, abort: AbortCheck) -> Future[DeployResult]:
        def run() -> DeployResult:
            request = deploy_request(
                self.release,
                self.stage,
                self.locate(),
                hold,
                abort,
                ready_timeout=self.ready_timeout,
            )
            return self.runtime.deploy(request)

        return self._pool.submit(run)

    def settle(self, aborted: list[DeploymentView]) -> None:
        return None

    def report(
        self, result: RolloutResult, changes: list[SchemaChange], drift: list[SchemaChange]
    ) -> None:
        return None
