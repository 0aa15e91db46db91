"""The subcommands: publish, promote, status, undeploy, stages, up, down, demo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from oneclick.cli.context import (
    DEFAULT_PORT,
    DEFAULT_RELAY_PORT,
    Context,
    pass_context,
    person,
    run_flow,
)
from oneclick.errors import OneclickError


@click.group()
def publish() -> None:
    """Publish an app to a stage, or a library to the library store."""


@publish.command("app")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--stage", default="development", show_default=True, envvar="ONECLICK_STAGE")
@click.option("--revision", default=None, help="Source revision to record with the release.")
@pass_context
def publish_app_command(context: Context, path: Path, stage: str, revision: str | None) -> None:
    """Compile the app at PATH, build its image and deploy it to STAGE."""

    def start() -> Any:
        from flows.publish_app import publish_app

        return publish_app(str(path.resolve()), stage, revision, by=person())

    result = run_flow(context, start, stages=(stage,))
    click.secho(f"{result.app} {result.version} runs on {result.stage}: {result.url}", fg="green")


@publish.command("library")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@pass_context
def publish_library_command(context: Context, path: Path) -> None:
    """Compile the library at PATH and store its build."""

    def start() -> Any:
        from flows.publish_library import publish_library

        return publish_library(str(path.resolve()))

    result = run_flow(context, start)
    state = "stored" if result.created else "already stored (unchanged)"
    click.secho(f"{result.name} {result.version} {state}: {result.digest}", fg="green")
    for row in result.consumers:  # who takes it, who is pinned, what it would block
        blockers = "" if row["blockers"] == "-" else f": {row['blockers']}"
        click.secho(
            f"  {row['app']} on {row['stage']} ({row['library version']}): {row['outcome']}"
            + blockers,
            fg="yellow" if blockers else None,
        )


@click.command()
@click.argument("app")
@click.option("--from", "from_stage", default="development", show_default=True)
@click.option("--to", "to_stage", default="qa", show_default=True)
@click.option("--version", default=None, help="A release version (or unique prefix).")
@click.option("--force", is_flag=True, help="Promote into a frozen stage (needs --reason).")
@click.option("--reason", default=None, help="Why a frozen stage is forced; recorded.")
@pass_context
def promote(
    context: Context,
    app: str,
    from_stage: str,
    to_stage: str,
    version: str | None,
    force: bool,
    reason: str | None,
) -> None:
    """Deploy the release FROM runs (the same image) to TO, with TO's configuration. A frozen
    TO refuses it unless --force --reason WHY; a rollback's pin on TO is lifted."""
    if force and not (reason or "").strip():
        raise click.UsageError("--force needs --reason WHY: it is recorded with the promotion")

    def start() -> Any:
        from flows.promote_app import promote_app

        return promote_app(
            app, from_stage, to_stage, version, force=force, reason=reason, by=person()
        )

    result = run_flow(context, start, stages=(from_stage, to_stage))
    click.secho(f"{result.app} {result.version} runs on {result.stage}: {result.url}", fg="green")


@click.command()
@click.argument("app")
@click.option("--stage", required=True, help="The stage to roll back.")
@click.option("--to", "to", default=None, help="A release version (default: the previous one).")
@pass_context
def rollback(context: Context, app: str, stage: str, to: str | None) -> None:
    """Deploy to STAGE the release of APP it ran before (or --to VERSION). Its database keeps
    everything the newer release added. The app stays pinned there: scheduled promotions
    skip it until `oneclick unpin APP --stage STAGE`."""

    def start() -> Any:
        from flows.rollback_app import rollback_app

        return rollback_app(app, stage, to, by=person())

    result = run_flow(context, start, stages=(stage,))
    click.secho(f"{result.app} {result.version} runs on {result.stage}: {result.url}", fg="green")
    click.echo(f"{app} is pinned on {stage}; `oneclick unpin {app} --stage {stage}` lifts it")


@click.command()
@click.argument("app", required=False)
@pass_context
def status(context: Context, app: str | None) -> None:
    """What each app runs on each stage: version, image, schema, drift, URL, health."""
    with context.catalog_reader() as catalog:
        rows, pins = catalog.running(app), catalog.pins()
    if not rows:
        click.echo("nothing published yet" + (f" for {app}" if app else ""))
        return
    from oneclick.cli.status import echo_status

    echo_status(context, rows, pins)


@click.command()
@click.argument("app")
@click.option("--stage", required=True, help="The stage to take the app off.")
@pass_context
def undeploy(context: Context, app: str, stage: str) -> None:
    """Stop APP on STAGE and remove what the stage's runtime made for it. Its database and
    its releases stay: publishing or promoting again brings it back."""
    context.connect()
    from flows.stages import load_stage
    from oneclick.releases import Catalog
    from oneclick.runtimes.select import stage_runtime

    config = load_stage(stage, context.home)
    removed = stage_runtime(config, context.home).undeploy(stage, app)
    recorded = Catalog(context.catalog_url()).record_undeploy(app, stage)
    if removed or recorded:
        click.secho(f"{app} no longer runs on {stage}; its database is kept", fg="green")
    else:
        click.echo(f"{app} was not deployed on {stage}: nothing to do")


@click.command()
@pass_context
def stages(context: Context) -> None:
    """The stage blocks and what they point at, in promotion order."""
    from oneclick.cli.rest import block_data, stage_configs

    api_url = context.api_url()
    if api_url is None:
        raise OneclickError("no Prefect server is running: start one with `oneclick up`")
    names = block_data(api_url, "oneclick-stage")
    if not names:
        click.echo(
            "no stage blocks yet: `oneclick demo` creates development, qa and production; "
            "or create 'oneclick Stage' blocks in the Prefect UI (Blocks)"
        )
        return
    configs = stage_configs(api_url, context.home, names)
    for config in sorted(configs.values(), key=lambda c: (c.order, c.name)):
        given = names[config.name].get("database_url")
        database = "configured URL" if given else "embedded SQLite"
        approval = ", requires approval" if config.requires_approval else ""
        registry = f"  registry={config.registry.host}" if config.registry else ""
        where = {
            "docker": f" engine={config.docker.engine_url}",
            "kubernetes": f" namespace={config.kubernetes.namespace}",
        }.get(config.runtime, "")
        click.echo(
            f"{config.order}  {config.name:<12} runtime={config.runtime}{where}{registry}  "
            f"database={database}{approval}"
        )


@click.command()
@click.option("--port", default=DEFAULT_PORT, show_default=True, envvar="ONECLICK_PREFECT_PORT")
@click.option(
    "--relay-port", default=DEFAULT_RELAY_PORT, show_default=True, envvar="ONECLICK_RELAY_PORT"
)
@pass_context
def up(context: Context, port: int, relay_port: int) -> None:
    """Start the local Prefect server, register oneclick's block types, serve its flows as
    deployments the Prefect UI can run, and start the git webhook relay."""
    from oneclick.cli.setup import bring_up

    api_url = bring_up(context, port, relay_port)
    click.echo(f"Prefect server: {api_url.removesuffix('/api')}")


@click.command()
@pass_context
def down(context: Context) -> None:
    """Stop every stage app this machine runs, then the local Prefect server."""
    from oneclick.cli.server import stop_server
    from oneclick.runtimes import LocalRuntime

    stopped = LocalRuntime(context.home.runtime).stop_all()
    click.echo(f"stopped {len(stopped)} app instance(s)")
    click.echo(
        "stopped the Prefect server" if stop_server(context.home) else "no server was running"
    )


@click.command()
@click.option("--port", default=DEFAULT_PORT, show_default=True, envvar="ONECLICK_PREFECT_PORT")
@pass_context
def demo(context: Context, port: int) -> None:
    """The whole story on embedded defaults: stages, a library, an app, a promotion."""
    from oneclick.cli.setup import run_demo

    run_demo(context, port)


COMMANDS = [publish, promote, rollback, status, undeploy, stages, up, down, demo]
