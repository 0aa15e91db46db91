"""``oneclick freeze``, ``unfreeze``, ``unpin`` and ``schedule``: the release manager's
levers on scheduled promotions. Freezes live in the stage block (``promotion``), so the
Prefect UI shows and edits the same values; pins live in the release catalog."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import click

from oneclick.cli.context import Context, pass_context

if TYPE_CHECKING:
    from blocks import Stage

_DURATION = re.compile(r"^\+?(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_until(text: str, now: datetime) -> datetime:
    """``2h``, ``3d``, ``+90m`` from now, or an ISO 8601 time (UTC unless it says otherwise)."""
    match = _DURATION.match(text.strip())
    if match:
        return now + timedelta(**{_UNITS[match[2]]: int(match[1])})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise click.BadParameter(
            f"{text!r} is neither a duration (30m, 2h, 3d, 1w) nor an ISO 8601 time "
            "(2026-12-24T18:00, 2026-12-24T18:00+01:00)",
            param_hint="--until",
        ) from exc
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when <= now:
        raise click.BadParameter(f"{text} is in the past", param_hint="--until")
    return when


def _block(context: Context, stage: str) -> Stage:
    context.connect()
    from blocks import Stage
    from flows.stages import stage_names
    from oneclick.errors import StageError

    try:
        block = Stage.load(stage)
    except ValueError as exc:
        known = ", ".join(stage_names()) or "none"
        raise StageError(f"unknown stage {stage!r} (stages: {known})") from exc
    assert isinstance(block, Stage)
    return block


@click.command()
@click.argument("stage")
@click.option("--until", "until", default=None, help="30m, 2h, 3d, 1w, or an ISO 8601 time.")
@click.option("--reason", required=True, help="Shown to whoever is refused.")
@pass_context
def freeze(context: Context, stage: str, until: str | None, reason: str) -> None:
    """Refuse promotions into STAGE until --until (scheduled ones skip it; manual ones need
    --force). Without --until, stop the line: frozen until `oneclick unfreeze`."""
    from oneclick.policies import FreezePeriod, active_freeze

    block = _block(context, stage)
    now = datetime.now(UTC)
    if until is None:
        policy = block.promotion.model_copy(update={"stop_the_line": True, "stop_reason": reason})
    else:
        window = FreezePeriod(start=now, end=parse_until(until, now), reason=reason)
        policy = block.promotion.model_copy(update={"freezes": [*block.promotion.freezes, window]})
    block.promotion = policy
    block.save(stage, overwrite=True)
    click.secho(f"{stage} is {active_freeze(policy, now)}", fg="yellow")


@click.command()
@click.argument("stage")
@pass_context
def unfreeze(context: Context, stage: str) -> None:
    """Lift STAGE's stop-the-line and the one-off freezes in force now. Recurring windows are
    policy: edit them in the stage block."""
    from oneclick.policies import active_freeze

    block = _block(context, stage)
    now = datetime.now(UTC)
    kept = [f for f in block.promotion.freezes if not f.start <= now < f.end]
    policy = block.promotion.model_copy(
        update={"freezes": kept, "stop_the_line": False, "stop_reason": ""}
    )
    block.promotion = policy
    block.save(stage, overwrite=True)
    still = active_freeze(policy, now)
    if still is not None:
        click.secho(
            f"{stage} is still {still} (a recurring window: edit promotion.recurring_freezes "
            "in the stage block to change it)",
            fg="yellow",
        )
    else:
        click.secho(f"{stage} takes promotions again", fg="green")


@click.command()
@click.argument("app")
@click.option("--stage", required=True, help="The stage the app is pinned on.")
@pass_context
def unpin(context: Context, app: str, stage: str) -> None:
    """Let scheduled promotions take APP on STAGE again after a rollback pinned it."""
    from oneclick.releases import Catalog, Pins

    pin = Pins(Catalog(context.catalog_url())).unpin(app, stage)
    if pin is None:
        click.echo(f"{app} was not pinned on {stage}")
    else:
        click.secho(f"{app} on {stage} is unpinned (it was {pin})", fg="green")


@click.command()
@click.option(
    "--sync",
    is_flag=True,
    help="Write the policies' schedules, and the stage and app choices of the run forms, "
    "onto Prefect's deployments now.",
)
@pass_context
def schedule(context: Context, sync: bool) -> None:
    """Each stage's promotion policy: its next runs (in their time zones), whether it is
    frozen, and what a run now would promote, with the reason for every app it would skip."""
    context.connect()
    from flows.stages import load_stage, stage_names
    from oneclick.policies import active_freeze, decide, next_runs
    from oneclick.policies.candidates import gather
    from oneclick.releases import Catalog

    if sync:
        from flows.forms import refresh_forms
        from flows.schedules import sync_promotion_schedules

        slugs = sync_promotion_schedules()
        click.echo(f"promote-stage schedules: {', '.join(slugs) or 'none'}")
        click.echo(f"run forms updated: {refresh_forms()} deployment(s)")
    catalog, now, shown = Catalog(context.catalog_url()), datetime.now(UTC), 0
    for name in stage_names():
        target = load_stage(name, context.home)
        policy = target.promotion
        if not policy.source:
            continue
        shown += 1
        click.secho(f"{policy.source} → {name}", bold=True)
        for entry, when in next_runs(policy, now):
            click.echo(f"  {entry.cron} ({entry.timezone}): next {when:%Y-%m-%d %H:%M %Z}")
        if not policy.schedules:
            click.echo("  no schedule: runs only when started (promote-stage)")
        frozen = active_freeze(policy, now)
        if frozen is not None:
            click.secho(f"  {frozen}", fg="yellow")
        for d in decide(policy, gather(catalog, policy.source, target), now):
            move = f"{d.from_version or '-'} → {d.to_version or '-'}"
            verdict = "would promote" if d.promote else f"skip: {d.reason}"
            click.echo(f"  {d.app:<20} {move:<40} {verdict}")
    if not shown:
        click.echo(
            "no stage has a promotion policy: set promotion.source and promotion.schedules "
            "in a stage block (Prefect UI, Blocks)"
        )


COMMANDS = [freeze, unfreeze, unpin, schedule]
