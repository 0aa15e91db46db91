"""``oneclick relay``: the git webhook receiver, in the foreground."""

from __future__ import annotations

import click

from oneclick.cli.context import DEFAULT_RELAY_PORT, Context, pass_context


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=DEFAULT_RELAY_PORT, show_default=True, envvar="ONECLICK_RELAY_PORT")
@pass_context
def relay(context: Context, host: str, port: int) -> None:
    """Receive GitHub, GitLab and Gitea push webhooks at /hooks/<provider> and turn pushes
    to the branches of 'oneclick Git Source' blocks into Prefect events that start publishes."""
    import uvicorn

    api_url = context.connect()
    from blocks.git_source import load_git_sources
    from oneclick.relay import relay_app
    from oneclick.relay.app import prefect_emitter
    from oneclick.relay.deliveries import Deliveries
    from oneclick.releases import Catalog

    deliveries = Deliveries(Catalog(context.catalog_url()))
    app = relay_app(load_git_sources, deliveries, prefect_emitter(api_url))
    click.echo(f"relay: http://{host}:{port}/hooks/<github|gitlab|gitea> -> {api_url}")
    uvicorn.run(app, host=host, port=port, log_level="info")


COMMANDS = [relay]
