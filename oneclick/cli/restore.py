"""``oneclick up`` brings back the apps each local stage ran (``oneclick.rollout.restore``),
at the addresses they had; called once the Prefect server answers (stage blocks live there)."""

from __future__ import annotations

import click

from oneclick.home import Home


def restore_stages(home: Home, catalog_url: str) -> None:
    """Start again what each stage of the local runtime ran and is down; one line per app."""
    from flows.stages import load_stage, stage_names
    from oneclick.releases import Catalog
    from oneclick.rollout.restore import restore_stage_apps

    stages = [load_stage(name, home) for name in stage_names()]
    for line in restore_stage_apps(Catalog(catalog_url), stages, home):
        click.echo(line)
