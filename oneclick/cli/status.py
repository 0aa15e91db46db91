"""``oneclick status``: what each app runs on each stage, checked against the stage now.

The catalog says which release each stage should run. The stage blocks (read from the
Prefect server when one answers) say where: each row is checked with the stage's runtime
(a local process, or the labelled container of a Docker engine), its HEALTH is what its
``/healthz`` and ``/readyz`` answer, and its database is compared with what oneclick last
left there (drift). Without a server the stages are taken to be the
embedded defaults (local processes, SQLite under the oneclick home), and the output says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import click

from oneclick.cli.context import Context
from oneclick.data.quick_drift import drift_at_a_glance
from oneclick.errors import OneclickError
from oneclick.policies import Pin, active_freeze
from oneclick.releases.views import DeploymentView
from oneclick.runtimes import InstanceStatus, Runtime
from oneclick.runtimes.probe import readiness
from oneclick.runtimes.select import stage_runtime
from oneclick.stages import StageConfig

HEADER = ("APP", "STAGE", "VERSION", "IMAGE", "SCHEMA", "DRIFT", "URL", "INSTANCE", "HEALTH")


def _stage_configs(context: Context, names: Iterable[str]) -> dict[str, StageConfig] | None:
    """Each named stage's configuration from its block; None when no server answers."""
    api_url = context.api_url()
    if api_url is None:
        return None
    from oneclick.cli.rest import stage_configs

    return stage_configs(api_url, context.home, names)


def _default_stage(context: Context, name: str) -> StageConfig:
    from pydantic import SecretStr

    return StageConfig(name=name, database_url=SecretStr(context.home.stage_database_url(name)))


def _runs_as(instance: InstanceStatus | None) -> str:
    if instance is None:
        return "-"
    if instance.instance:
        return instance.instance
    if instance.container:
        return f"container:{instance.container[:12]}"
    return f"pid:{instance.pid}"


def _health(instance: InstanceStatus | None, stage: StageConfig) -> str:
    """down, unhealthy (``/healthz`` fails), not ready (``/readyz`` fails: it would be taken
    out of service) or ready. Kubernetes counts available replicas: its probes ask /readyz."""
    if instance is None or not instance.alive:
        return "down"
    if not instance.healthy:
        return "unhealthy"
    if stage.runtime == "kubernetes":
        return "ready"
    return "ready" if readiness(instance.url) is not None else "not ready"


def _drift(stage: StageConfig, app: str) -> tuple[str, list[str]]:
    """The DRIFT cell and its details. A SQLite database left as its last apply recorded it
    is told at a glance; anything else is reflected and compared (SQLAlchemy)."""
    url = stage.database_url_for(app)
    glance = drift_at_a_glance(url)
    if glance is not None:
        return ("none" if glance == "unchanged" else "unknown"), []
    from oneclick.data.drift import detect_drift

    try:
        found = detect_drift(url)
    except OneclickError as exc:
        return "unknown", [f"{app} on {stage.name}: the database could not be read: {exc}"]
    if not found.known:
        return "unknown", []
    details = [f"{app} on {stage.name}: {change}" for change in found.changes]
    return (f"{len(found.changes)} change(s)" if found.changes else "none"), details


def status_lines(
    context: Context, rows: list[DeploymentView], pins: dict[tuple[str, str], Pin]
) -> Iterator[str]:
    """The status table, then what drifted; a note first if the stages could not be read."""
    configs = _stage_configs(context, (row.stage for row in rows))
    if configs is None:
        configs = {row.stage: _default_stage(context, row.stage) for row in rows}
        yield "(no Prefect server answers: stages taken as the embedded defaults)"
    runtimes: dict[str, Runtime] = {}
    table = [HEADER]
    drifted: list[str] = []
    for row in rows:
        stage = configs[row.stage]
        runtime = runtimes.setdefault(row.stage, stage_runtime(stage, context.home))
        try:
            instance = runtime.status(row.stage, row.app)
        except OneclickError:
            instance = None
        drift, details = _drift(stage, row.app)
        drifted += details
        table.append(
            (
                row.app,
                row.stage,
                row.version,
                row.image_digest[7:19],
                row.schema_fingerprint[7:19],
                drift,
                (instance.url if instance is not None else row.url) or "-",
                _runs_as(instance),
                _health(instance, stage),
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    for line in table:
        yield "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
    if drifted:
        yield ""
        yield "Changed outside oneclick (kept; the next publish reports them too):"
        yield from (f"  {line}" for line in drifted)
    yield from _holds(configs, pins)


def _holds(configs: dict[str, StageConfig], pins: dict[tuple[str, str], Pin]) -> Iterator[str]:
    """The frozen stages and the pinned apps: what scheduled promotions leave alone."""
    now = datetime.now(UTC)
    frozen = [(name, active_freeze(c.promotion, now)) for name, c in sorted(configs.items())]
    lines = [f"  {name}: {freeze}" for name, freeze in frozen if freeze is not None]
    lines += [
        f"  {app} on {stage}: {pin} (`oneclick unpin {app} --stage {stage}` lifts it)"
        for (app, stage), pin in sorted(pins.items())
    ]
    if lines:
        yield ""
        yield "Held back from scheduled promotions:"
        yield from lines


def echo_status(
    context: Context, rows: list[DeploymentView], pins: dict[tuple[str, str], Pin]
) -> None:
    for line in status_lines(context, rows, pins):
        click.echo(line)
