"""``oneclick configure`` (roll a stage's release with its current settings) and
``oneclick render`` (the Kubernetes objects a release becomes on a stage)."""

from __future__ import annotations

from typing import Any

import click

from oneclick.cli.context import Context, pass_context, run_flow

PLACEHOLDER = "(set in the stage block)"


@click.command()
@click.argument("app")
@click.option("--stage", required=True, help="The stage whose settings changed.")
@pass_context
def configure(context: Context, app: str, stage: str) -> None:
    """Roll what STAGE runs of APP again with the stage block's current settings and secrets
    (no build, same image)."""

    def start() -> Any:
        from flows.configure_app import apply_configuration

        return apply_configuration(app, stage)

    result = run_flow(context, start, stages=(stage,))
    click.secho(f"{result.app} {result.version} reconfigured on {result.stage}", fg="green")


@click.command()
@click.argument("app")
@click.option("--stage", required=True, help="A stage with runtime 'kubernetes'.")
@click.option("--version", default=None, help="A release (default: what the stage runs).")
@pass_context
def render(context: Context, app: str, stage: str, version: str | None) -> None:
    """Print the Kubernetes objects of APP on STAGE as YAML (secret values are placeholders)."""
    import yaml

    context.connect()
    from flows.stages import load_stage
    from oneclick.errors import StageError
    from oneclick.releases import Catalog
    from oneclick.runtimes import DeployRequest
    from oneclick.runtimes.kubernetes.manifests import is_secret
    from oneclick.runtimes.kubernetes.runtime import KubernetesRuntime

    config = load_stage(stage, context.home)
    if config.runtime != "kubernetes":
        raise StageError(f"stage {stage!r} runs {config.runtime!r}, not 'kubernetes': no objects")
    catalog = Catalog(context.catalog_url())
    if version is None:
        current = catalog.current(app, stage)
        version = current.version if current else None
    release = catalog.release(app, version)
    env = config.environment(release.manifest)
    request = DeployRequest(
        stage=stage,
        app=app,
        release=release.version,
        image_root=context.home.images,
        image_digest=release.image_digest,
        image_reference=release.image_reference,
        env={k: PLACEHOLDER if is_secret(k) else v for k, v in env.items()},
    )
    objects = KubernetesRuntime(config.kubernetes).render(request)
    click.echo(yaml.safe_dump_all(objects, sort_keys=False), nl=False)


COMMANDS = [configure, render]
