"""Bringing a machine up on embedded defaults, and the demo that walks the whole story."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import click

from oneclick.cli.context import DEFAULT_RELAY_PORT, Context

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# stage → (order, the example app's settings there)
DEFAULT_STAGES: dict[str, tuple[int, dict[str, str]]] = {
    "development": (1, {"ApprovalLimit": "5000", "CurrencySymbol": "€"}),
    "qa": (2, {"ApprovalLimit": "1000", "CurrencySymbol": "€"}),
    "production": (3, {"ApprovalLimit": "500", "CurrencySymbol": "€"}),
}


def bring_up(context: Context, port: int, relay_port: int | None = None) -> str:
    from oneclick.cli.server import start_relay, start_server, start_serving

    loose = context.home.open_to_others()
    if loose:
        click.secho(
            f"warning: other users can read {len(loose)} path(s) of ONECLICK_HOME, which holds "
            f"the key to every stage secret: {', '.join(loose[:5])}"
            f"{' …' if len(loose) > 5 else ''}; fix it with: chmod -R go-rwx {context.home.root}",
            fg="yellow",
            err=True,
        )
    click.echo("starting the Prefect server (the first start takes about 20 s) ...")
    api_url = start_server(context.home, port)
    os.environ["PREFECT_API_URL"] = api_url
    context.connect()
    from blocks import GitSource, Registry, Stage, Workspace

    for block in (Stage, Registry, GitSource, Workspace):
        block.register_type_and_schema()
    start_serving(context.home, api_url)
    from flows.schedules import sync_promotion_schedules

    sync_promotion_schedules()  # stage blocks made while no trigger listened yet
    from oneclick.cli.restore import restore_stages

    restore_stages(context.home, context.catalog_url())  # what the local stages ran
    relay_port = relay_port or int(os.environ.get("ONECLICK_RELAY_PORT", DEFAULT_RELAY_PORT))
    start_relay(context.home, api_url, relay_port)
    click.echo(f"git webhook relay: http://127.0.0.1:{relay_port}/hooks/<github|gitlab|gitea>")
    return api_url


def ensure_stages(context: Context) -> list[str]:
    """Create the three embedded stages unless a stage block of that name exists. qa takes
    what development runs every night at 02:00 UTC; production is promoted by hand."""
    from blocks import Stage
    from oneclick.policies import CronSchedule, PromotionPolicy

    policies = {
        "qa": PromotionPolicy(source="development", schedules=[CronSchedule(cron="0 2 * * *")]),
        "production": PromotionPolicy(source="qa"),
    }
    from flows.stages import stage_names

    existing = set(stage_names())
    created = []
    for name, (order, settings) in DEFAULT_STAGES.items():
        if name in existing:
            continue
        Stage(
            order=order,
            settings={"expenses": settings},
            secrets={"expenses": {"PaymentsApiKey": secrets.token_urlsafe(24)}},
            requires_approval=False,
            promotion=policies.get(name, PromotionPolicy()),
        ).save(name)
        created.append(name)
    if created:
        from flows.forms import refresh_forms

        refresh_forms()
    return created


def run_demo(context: Context, port: int) -> None:
    started = time.perf_counter()
    api_url = bring_up(context, port)
    created = ensure_stages(context)
    if created:
        click.echo(f"created stages: {', '.join(created)}")
    from flows.promote_app import promote_app
    from flows.publish_app import publish_app
    from flows.publish_library import publish_library

    for library in ("money-formats", "finance-common"):
        result = publish_library(str(EXAMPLES / library))
        click.secho(f"library {result.name} {result.version}: {result.digest[:19]}", fg="green")
    dev = publish_app(str(EXAMPLES / "expenses"), "development")
    click.secho(f"published {dev.app} {dev.version} to development", fg="green")
    qa = promote_app("expenses", "development", "qa")
    click.secho(
        f"promoted {qa.app} {qa.version} to qa (same image {qa.image_digest[:19]})", fg="green"
    )
    ui = api_url.removesuffix("/api")
    click.echo("")
    click.echo(f"development  {dev.url}")
    click.echo(f"qa           {qa.url}")
    click.echo(f"Prefect UI   {ui}")
    click.echo(
        f"done in {time.perf_counter() - started:.0f}s. "
        "`oneclick status` shows what runs where; `oneclick down` (make down) stops everything."
    )
