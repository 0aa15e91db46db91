"""The promote-stage deployment's schedules, kept equal to the stage blocks' promotion
policies: one Prefect schedule per (stage, cron entry), with that stage as its parameter.

Prefect's own scheduler creates the runs; oneclick only writes the schedules. They are
written when the deployments are served, when a stage block changes (the sync-schedules
deployment's trigger) and by ``oneclick schedule --sync``. Unchanged schedules are left
alone, so the upcoming runs Prefect created stay as they are.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentScheduleUpdate, DeploymentUpdate
from prefect.client.schemas.schedules import CronSchedule
from prefect.exceptions import ObjectNotFound
from prefect.schedules import Cron, Schedule

from blocks import Stage
from flows.forms import refresh_forms

PROMOTE_STAGE = "promote-stage/promote-stage"


def _slug(stage: str, cron: str, zone: str) -> str:
    """The schedule's name in the UI, e.g. ``promote qa: 0 2 * * * (UTC)``."""
    return f"promote {stage}: {cron} ({zone})"


def policy_schedules() -> list[Schedule]:
    """One schedule per cron entry of every stage block that names a promotion source."""
    with get_client(sync_client=True) as client:
        documents = client.read_block_documents_by_type(block_type_slug=Stage.get_block_type_slug())
    schedules = []
    for document in sorted(documents, key=lambda d: d.name or ""):
        if not document.name:
            continue
        policy = Stage.model_validate(document.data).promotion
        if not policy.source:
            continue
        for entry in dict.fromkeys(policy.schedules):  # the same entry twice is one
            schedules.append(
                Cron(
                    entry.cron,
                    timezone=entry.timezone,
                    parameters={"stage": document.name},
                    slug=_slug(document.name, entry.cron, entry.timezone),
                )
            )
    return schedules


def _key(
    cron: str, zone: str | None, parameters: dict[str, Any], slug: str | None
) -> tuple[Any, ...]:
    return (cron, zone or "UTC", sorted(parameters.items()), slug)


def sync_promotion_schedules() -> list[str]:
    """Write the policies' schedules onto the promote-stage deployment if they differ;
    returns the slugs now there. Raises ObjectNotFound if that deployment does not exist."""
    wanted = policy_schedules()
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(PROMOTE_STAGE)
        current = client.read_deployment_schedules(deployment.id)
        have = sorted(
            _key(s.schedule.cron, s.schedule.timezone, s.parameters, s.slug)
            for s in current
            if isinstance(s.schedule, CronSchedule)
        )
        want = sorted(_key(s.cron or "", s.timezone, s.parameters, s.slug) for s in wanted)
        if have != want or len(current) != len(have):
            client.update_deployment(
                deployment.id,
                DeploymentUpdate(
                    schedules=[
                        DeploymentScheduleUpdate(
                            schedule=CronSchedule(cron=s.cron or "", timezone=s.timezone),
                            active=True,
                            parameters=s.parameters,
                            slug=s.slug,
                        )
                        for s in wanted
                    ]
                ),
            )
    return [s.slug or "" for s in wanted]


@flow(name="sync-schedules")
def sync_schedules() -> list[str]:
    """Bring the promote-stage schedules up to date with the stage blocks' policies, and the
    stage dropdowns of the run forms with the stage blocks there are."""
    updated = refresh_forms()
    get_run_logger().info("run forms updated: %d deployment(s)", updated)
    try:
        slugs = sync_promotion_schedules()
    except ObjectNotFound:
        get_run_logger().warning("no %s deployment: nothing to schedule", PROMOTE_STAGE)
        return []
    get_run_logger().info("promotion schedules: %s", ", ".join(slugs) or "none")
    return slugs
