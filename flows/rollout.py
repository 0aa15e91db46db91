"""The second half of publish and promote: a release onto a stage.

Plans the stage's schema first (a refused change stops here, nothing touched), then runs the
database scripts and the deploy concurrently. The new instance only reports ready once its
schema is in place, and only a ready instance replaces the previous one, so a failure in
either leaves the previous release serving. Every attempt is recorded in the catalog.
"""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger
from prefect.context import get_run_context
from prefect.futures import PrefectFuture
from pydantic import BaseModel, ConfigDict

from oneclick.errors import OneclickError, TransientError
from oneclick.home import Home
from oneclick.releases import Phase, ReleaseView
from oneclick.stages import StageConfig
from tasks.catalog import finish_deployment, start_deployment
from tasks.report import report_release
from tasks.stage import apply_stage_schema, deploy_to_stage, plan_stage_schema


class RolloutResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    app: str
    version: str
    stage: str
    url: str
    image_digest: str
    image_reference: str
    schema_changes: list[str]
    drift: list[str] = []


def _phase(exc: BaseException) -> Phase:
    if isinstance(exc, OneclickError) and not isinstance(exc, TransientError):
        return Phase.FAILED
    return Phase.ERRORED


def _outcome(future: PrefectFuture[Any]) -> BaseException | None:
    future.wait()
    try:
        future.result()
    except BaseException as exc:
        return exc
    return None


def roll_out(release: ReleaseView, stage: StageConfig, home: Home, verb: str) -> RolloutResult:
    logger = get_run_logger()
    stage.environment(release.manifest)  # fails now if the stage lacks a setting or secret
    plan = plan_stage_schema(release, stage)
    flow_run = getattr(get_run_context(), "flow_run", None)
    deployment = start_deployment(release, stage.name, str(flow_run.id) if flow_run else None, home)
    schema_failed: list[str] = []
    schema_future = apply_stage_schema.submit(release, stage)
    deploy_future = deploy_to_stage.submit(
        release, stage, home, abort=lambda: schema_failed[0] if schema_failed else None
    )
    schema_error = _outcome(schema_future)
    if schema_error is not None:  # the new instance can never be ready: stop waiting for it
        schema_failed.append(f"the database scripts failed: {schema_error}")
    failures = [e for e in (schema_error, _outcome(deploy_future)) if e is not None]
    if failures:
        first = failures[0]
        finish_deployment(deployment, _phase(first), home, message=str(first))
        logger.error(
            "%s %s was not %s %s; the previous release keeps serving",
            release.app,
            release.version,
            verb,
            stage.name,
        )
        raise first
    schema = schema_future.result()
    deployed = deploy_future.result()
    changes = [str(c) for c in schema.changes]
    finish_deployment(
        deployment,
        Phase.SUCCEEDED,
        home,
        url=deployed.url,
        schema_changes=changes,
        schema_script=schema.script,
    )
    drift = schema.drift or plan.drift
    for change in drift:
        logger.warning("%s database changed outside oneclick: %s", stage.name, change)
    report_release(
        release,
        stage.name,
        deployed.url,
        schema.changes or plan.changes,
        schema.script,
        verb,
        drift,
    )
    logger.info("%s %s %s %s: %s", release.app, release.version, verb, stage.name, deployed.url)
    return RolloutResult(
        app=release.app,
        version=release.version,
        stage=stage.name,
        url=deployed.url,
        image_digest=release.image_digest,
        image_reference=release.image_reference,
        schema_changes=changes,
        drift=[str(c) for c in drift],
    )
