"""``oneclick history``, ``releases`` and ``libraries``: what the release catalog remembers.

They read the catalog (the workspace's when a server answers, else this home's) and, for
libraries, the library store; none of them changes anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import click

from oneclick.cli.context import Context, pass_context
from oneclick.errors import OneclickError

if TYPE_CHECKING:
    from oneclick.libraries import LibraryStore
    from oneclick.releases import Catalog, DeploymentView, ReleaseView


def table(rows: Sequence[Sequence[str]]) -> None:
    """Columns padded to their widest cell; the first row is the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _catalog(context: Context) -> Catalog:
    from oneclick.releases import Catalog

    return Catalog(context.catalog_url())


def _known_app(catalog: Catalog, app: str) -> list[ReleaseView]:
    releases = catalog.releases(app)
    if not releases:
        known = ", ".join(catalog.apps()) or "none yet"
        raise OneclickError(f"no release of {app!r} is recorded (apps: {known})")
    return releases


def how_started(deployment: DeploymentView, release: ReleaseView | None) -> str:
    """A person (CLI), a schedule, a git push with its commit, the Prefect UI or API."""
    by = deployment.started_by or "-"
    if by.startswith("automation") and "git push" in by:
        commit = release.source_revision if release else None
        return f"git push {commit[:12]}" if commit else "git push"
    return by


def _outcome(deployment: DeploymentView) -> str:
    outcome = deployment.phase.value
    if deployment.message and deployment.phase.value not in ("succeeded", "undeployed"):
        first = deployment.message.splitlines()[0]
        outcome += f": {first[:60]}{'…' if len(first) > 60 else ''}"
    if deployment.override:
        outcome += f" ({deployment.override})"
    return outcome


@click.command()
@click.argument("app")
@click.option("--stage", default=None, help="Only this stage.")
@click.option("--limit", default=50, show_default=True, help="The most recent N deployments.")
@pass_context
def history(context: Context, app: str, stage: str | None, limit: int) -> None:
    """Every deployment of APP, newest first: when, where, which release and image, its
    outcome, its schema changes, how it was started and its flow run."""
    catalog = _catalog(context)
    releases = {r.version: r for r in _known_app(catalog, app)}
    deployments = catalog.deployments(app, limit=limit, stage=stage)
    if not deployments:
        click.echo(f"{app} was never deployed" + (f" to {stage}" if stage else ""))
        return
    rows = [("WHEN (UTC)", "STAGE", "RELEASE", "IMAGE", "OUTCOME", "SCHEMA", "STARTED BY", "RUN")]
    for d in deployments:
        changes = f"{len(d.schema_changes)} change(s)" if d.schema_changes else "-"
        rows.append(
            (
                f"{d.started_at:%Y-%m-%d %H:%M:%S}",
                d.stage,
                d.version,
                d.image_digest[7:19],
                _outcome(d),
                changes,
                how_started(d, releases.get(d.version)),
                (d.flow_run_id or "-")[:8],
            )
        )
    table(rows)
    changed = [d for d in deployments if d.schema_changes]
    if changed:
        click.echo("")
        click.echo("Schema changes:")
        for d in changed:
            for change in d.schema_changes:
                click.echo(f"  {d.started_at:%Y-%m-%d %H:%M} {d.stage} {d.version}: {change}")


def _running(catalog: Catalog, app: str | None = None) -> dict[tuple[str, str], list[str]]:
    """(app, version) → the stages running it now."""
    where: dict[tuple[str, str], list[str]] = {}
    for row in catalog.status(app):
        where.setdefault((row.app, row.version), []).append(row.stage)
    return where


@click.command()
@click.argument("app")
@pass_context
def releases(context: Context, app: str) -> None:
    """Every release of APP, newest first: its image, source revision, the libraries it
    bundles and the stages that run it now."""
    catalog = _catalog(context)
    found = _known_app(catalog, app)
    running = _running(catalog, app)
    rows = [("VERSION", "CREATED (UTC)", "IMAGE", "SOURCE", "LIBRARIES", "RUNS ON")]
    for r in found:
        libraries = ", ".join(f"{lib['name']} {lib['version']}" for lib in r.libraries)
        rows.append(
            (
                r.version,
                f"{r.created_at:%Y-%m-%d %H:%M}",
                r.image_digest[7:19],
                (r.source_revision or "-")[:12],
                libraries or "-",
                ", ".join(sorted(running.get((app, r.version), []))) or "-",
            )
        )
    table(rows)


@click.command()
@click.argument("name", required=False)
@pass_context
def libraries(context: Context, name: str | None) -> None:
    """The published libraries with their versions; with NAME, every version of it with its
    digest, the app releases that bundle it and the stages running those releases."""
    from oneclick.model.semver import semver_key

    catalog = _catalog(context)
    store = _library_store(context)
    bundled = _bundles(catalog.releases())
    if name is None:
        names = sorted({b.name for b in store.list()} | {lib for lib, _ in bundled})
        if not names:
            click.echo("no library is published yet: oneclick publish library PATH")
            return
        table([("LIBRARY", "VERSIONS"), *((n, ", ".join(store.versions(n)) or "-") for n in names)])
        return
    versions = store.versions(name)
    if not versions and not any(lib == name for lib, _ in bundled):
        raise OneclickError(f"no library {name!r} is published: `oneclick libraries` lists them")
    running = _running(catalog)
    rows = [("VERSION", "DIGEST", "BUNDLED BY", "RUNS ON")]
    for version in sorted(set(versions) | {v for lib, v in bundled if lib == name}, key=semver_key):
        digest = store.get(name, version).digest[7:19] if version in versions else "(not in store)"
        apps = bundled.get((name, version), [])
        stages = [
            f"{app} {release}: {stage}"
            for app, release in apps
            for stage in sorted(running.get((app, release), []))
        ]
        rows.append(
            (
                version,
                digest,
                ", ".join(f"{app} {release}" for app, release in apps) or "-",
                ", ".join(stages) or "-",
            )
        )
    table(rows)
    _requirements(catalog.releases(), name, versions)


def _requirements(found: Iterable[ReleaseView], name: str, versions: list[str]) -> None:
    """What each app's newest release asks of library ``name``, and what that takes now."""
    from oneclick.libraries.consumers import requirement_of
    from oneclick.model.semver import newest_match

    newest: dict[str, ReleaseView] = {}
    for release in found:  # newest first
        newest.setdefault(release.app, release)
    asks = [(app, requirement_of(r, name)) for app, r in sorted(newest.items())]
    lines = [
        f"  {app}: {wanted} (newest match: {newest_match(wanted, versions) or 'none'})"
        for app, wanted in asks
        if wanted is not None
    ]
    if lines:
        click.echo("")
        click.echo("Required by (each app's newest release; its next publish takes the match):")
        for line in lines:
            click.echo(line)


def _bundles(found: Iterable[ReleaseView]) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(library, version) → the (app, release) pairs that bundle it."""
    bundles: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for release in found:
        for lib in release.libraries:
            bundles.setdefault((lib["name"], lib["version"]), []).append(
                (release.app, release.version)
            )
    return bundles


def _library_store(context: Context) -> LibraryStore:
    """The store the flows use: the workspace's registry when a server names one."""
    from oneclick.libraries import library_store

    if context.api_url() is None:
        return library_store(context.home)
    context.connect()
    from flows.workspace import open_home

    return library_store(open_home())


COMMANDS = [history, releases, libraries]
