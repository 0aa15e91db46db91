"""The rollout: one release onto one stage, as a small state machine.

    hold the (app, stage) lease (wait in line) ─► clean up after killed runs
    ─► pending ─► plan the schema (refused: failed, nothing touched)
               ─► unchanged? ─► succeeded (nothing applied or restarted; drift reported)
    ─► running ─► widen the schema ║ start the new instance
                  (the switch waits for the schema; a schema failure abandons the deploy)
               ─► the new instance is ready and replaces the old ─► succeeded

A failure ends the attempt ``failed`` (the release is bad: a ``OneclickError``),
``errored`` (infrastructure: a ``TransientError`` or an unexpected exception) or ``aborted``
(the run was interrupted or cancelled). In each case the previous release keeps serving and
ready: the schema step only expands (see the compiled app's ``/readyz``), and the switch
happens only after both steps succeeded. Schema changes are recorded as soon as they
commit, so a failed deploy's record still says what its scripts changed.

A run SIGKILLed mid-way runs no ``except`` and no hook: its lease expires, and the next
rollout of the app on the stage finds its unfinished record (no attempt can still be running
while the lease is held) and marks it aborted, and reaps the instance it may have started.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import TypeVar

from oneclick.data import SchemaChange, SchemaResult
from oneclick.errors import OneclickError, TransientError
from oneclick.releases import Catalog, LeaseHolder, Phase, ReleaseView
from oneclick.rollout.lease import DEFAULT_TTL, DEFAULT_WAIT, HeldLease, hold_lease
from oneclick.rollout.result import RolloutResult
from oneclick.rollout.steps import Pending, RolloutSteps
from oneclick.runtimes import InstanceStatus, Runtime
from oneclick.runtimes.probe import readiness
from oneclick.runtimes.select import check_image
from oneclick.stages import StageConfig

log = logging.getLogger(__name__)
T = TypeVar("T")


def phase_of(exc: BaseException) -> Phase:
    """The terminal phase an attempt that raised ``exc`` ends in."""
    if not isinstance(exc, Exception):
        return Phase.ABORTED  # KeyboardInterrupt, SystemExit, a cancelled run
    if isinstance(exc, OneclickError) and not isinstance(exc, TransientError):
        return Phase.FAILED
    return Phase.ERRORED


def _message(phase: Phase, exc: BaseException) -> str:
    if phase is not Phase.ABORTED:
        return str(exc)
    detail = f": {exc}" if str(exc) else ""
    return f"the run was cancelled or stopped before it finished ({type(exc).__name__}{detail})"


def config_digest(env: Mapping[str, str]) -> str:
    """A digest of the environment a release runs with: a changed setting, secret or
    database URL makes the same release a new rollout."""
    encoded = json.dumps(sorted(env.items()), separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(encoded).hexdigest()


class Gate:
    """Between the two concurrent steps: the switch waits until the schema is in place, and
    the deploy gives up once the schema failed or the lease is lost."""

    def __init__(self, lease: HeldLease) -> None:
        self.lease = lease
        self._open = False
        self._failed: str | None = None

    def open(self) -> None:
        self._open = True

    def fail(self, reason: str) -> None:
        self._failed = reason

    def held(self) -> bool:
        return not self._open

    def abort(self) -> str | None:
        if self._failed:
            return self._failed
        if self.lease.lost:
            return "this run lost its lease on the stage (the catalog did not answer)"
        return None


def _settle(pending: Pending[T]) -> tuple[T | None, Exception | None]:
    try:
        return pending.result(), None
    except Exception as exc:
        return None, exc


class Rollout:
    """Roll ``release`` onto ``stage``; ``steps`` do the work, this decides and records."""

    def __init__(
        self,
        catalog: Catalog,
        runtime: Runtime,
        release: ReleaseView,
        stage: StageConfig,
        steps: RolloutSteps,
        holder: LeaseHolder,
        *,
        verb: str = "rolled out to",
        wait: float = DEFAULT_WAIT,
        ttl: float = DEFAULT_TTL,
        started_by: str | None = None,
        override: str | None = None,
    ) -> None:
        self.catalog, self.runtime, self.release, self.stage = catalog, runtime, release, stage
        self.steps, self.holder, self.verb = steps, holder, verb
        self.wait, self.ttl = wait, ttl
        self.started_by, self.override = started_by, override

    @property
    def what(self) -> str:
        return f"{self.release.app} {self.release.version}"

    def run(self) -> RolloutResult:
        app, stage = self.release.app, self.stage.name
        digest = config_digest(self.stage.environment(self.release.manifest))
        check_image(self.release.image_reference, self.stage)  # before anything is touched
        with hold_lease(
            self.catalog, app, stage, self.holder, wait=self.wait, ttl=self.ttl
        ) as lease:
            self._clean_up()
            deployment = self.catalog.start_deployment(
                app,
                self.release.version,
                stage,
                self.holder.flow_run_id,
                digest,
                started_by=self.started_by,
                override=self.override,
            )
            try:
                return self._run(deployment, lease, digest)
            except BaseException as exc:
                phase = phase_of(exc)
                self.catalog.finish_deployment(deployment, phase, message=_message(phase, exc))
                log.error(
                    "%s was not %s %s; the previous release keeps serving",
                    self.what,
                    self.verb,
                    stage,
                )
                raise

    def _clean_up(self) -> None:
        """What runs that were killed left: unfinished records, instances never switched to."""
        app, stage = self.release.app, self.stage.name
        reason = (
            f"its run ended before it finished (killed or cancelled); found by {self.holder.run}"
        )
        aborted = self.catalog.abort_unfinished(app, stage, reason)
        for record in aborted:
            log.warning(
                "deployment %d of %s %s on %s was left unfinished by flow run %s: aborted",
                record.id,
                app,
                record.version,
                stage,
                record.flow_run_id or "(none)",
            )
        if aborted:
            self.steps.settle(aborted)
        for leftover in self.runtime.reap(stage, app):
            log.warning("stopped %s on %s, left by a run that did not finish", leftover, stage)

    def _run(self, deployment: int, lease: HeldLease, digest: str) -> RolloutResult:
        plan = self.steps.plan()
        serving = self._serving(digest) if plan.up_to_date else None
        if serving is not None:
            return self._unchanged(deployment, serving, plan.drift)
        self.catalog.mark_running(deployment)
        gate = Gate(lease)
        widening = self.steps.widen(plan)
        deploying = self.steps.deploy(gate.held, gate.abort)
        try:
            schema, schema_error = _settle(widening)
            if schema is not None:
                changes = [str(c) for c in schema.changes]
                self.catalog.record_schema(deployment, changes, schema.script)
                gate.open()
            else:
                gate.fail(f"the database scripts failed: {schema_error}")
        except BaseException as exc:  # never leave the deploy waiting on a gate nobody opens
            gate.fail(f"the rollout stopped: {type(exc).__name__}: {exc}")
            raise
        deployed, deploy_error = _settle(deploying)
        error = schema_error or deploy_error
        if error is not None:
            raise error
        assert schema is not None and deployed is not None
        self.catalog.finish_deployment(deployment, Phase.SUCCEEDED, url=deployed.url)
        return self._report(deployment, deployed.url, schema, plan.drift)

    def _report(
        self, deployment: int, url: str, schema: SchemaResult, planned_drift: list[SchemaChange]
    ) -> RolloutResult:
        drift = schema.drift or planned_drift
        for change in drift:
            log.warning("%s database changed outside oneclick: %s", self.stage.name, change)
        result = self._result(deployment, url, [str(c) for c in schema.changes], schema.script)
        result = result.model_copy(update={"drift": [str(c) for c in drift]})
        self.steps.report(result, schema.changes, drift)
        log.info("%s %s %s: %s", self.what, self.verb, self.stage.name, url)
        return result

    def _serving(self, digest: str) -> InstanceStatus | None:
        """The instance, when the stage already serves this release, ready, with this
        configuration (its schema is in place: the plan said so); else None."""
        release, stage = self.release, self.stage
        current = self.catalog.current(release.app, stage.name)
        if current is None or current.version != release.version:
            return None
        if current.config_digest != digest:
            return None
        status = self.runtime.status(stage.name, release.app)
        if status is None or not (status.alive and status.healthy):
            return None
        if status.digest != release.image_digest:
            return None
        if stage.runtime != "kubernetes" and readiness(status.url) is None:
            return None
        return status

    def _unchanged(
        self, deployment: int, serving: InstanceStatus, drift: list[SchemaChange]
    ) -> RolloutResult:
        self.catalog.finish_deployment(
            deployment,
            Phase.SUCCEEDED,
            url=serving.url,
            message="unchanged: the stage already ran this release, ready, with this "
            "configuration; nothing was built, applied or restarted",
        )
        log.info("%s already runs on %s, ready: nothing to do", self.what, self.stage.name)
        for change in drift:
            log.warning("%s database changed outside oneclick: %s", self.stage.name, change)
        result = self._result(deployment, serving.url, [], "").model_copy(
            update={"unchanged": True, "drift": [str(c) for c in drift]}
        )
        self.steps.report(result, [], drift)
        return result

    def _result(self, deployment: int, url: str, changes: list[str], script: str) -> RolloutResult:
        return RolloutResult(
            app=self.release.app,
            version=self.release.version,
            stage=self.stage.name,
            url=url,
            image_digest=self.release.image_digest,
            image_reference=self.release.image_reference,
            schema_changes=changes,
            schema_script=script,
            deployment_id=deployment,
        )
