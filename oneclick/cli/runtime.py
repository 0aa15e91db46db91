"""``oneclick runtime build``: make the runtime base image every app image starts from.

The image holds this machine's Python and exactly the compiled app's runtime packages (see
``oneclick.images.runtime_image``); nothing is pulled from a container registry. It goes
into an OCI layout (``--layout DIR``; default: the layout under ONECLICK_HOME) or is pushed
to a registry (``--push host[:port]/repository[:tag]``); either way the command prints the
reference pinned by digest, to name as ``base_image`` in a registry block if it is not the
default place. Wheels and layers are cached under ONECLICK_HOME/cache/runtime.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from oneclick.cli.context import Context, pass_context


@click.group(name="runtime")
def runtime_group() -> None:
    """The runtime base image of app images."""


@runtime_group.command(name="build")
@click.option("--push", "push_ref", metavar="REF", help="Push to this registry reference.")
@click.option(
    "--layout", type=click.Path(file_okay=False, path_type=Path), help="Write to this OCI layout."
)
@click.option("--insecure", is_flag=True, help="Plain HTTP to the registry (127.0.0.1, a lab).")
@click.option("--username", envvar="ONECLICK_REGISTRY_USERNAME", help="Registry user.")
@click.option(
    "--password", envvar="ONECLICK_REGISTRY_PASSWORD", help="Registry password (better: env)."
)
@click.option(
    "--packages",
    type=click.Choice(["index", "installed"]),
    default="index",
    show_default=True,
    help="Wheels from the package index, or the packages installed with oneclick.",
)
@pass_context
def build_runtime(
    context: Context,
    push_ref: str | None,
    layout: Path | None,
    insecure: bool,
    username: str | None,
    password: str | None,
    packages: str,
) -> None:
    """Build the runtime base image (Python + the compiled app's runtime packages)."""
    from pydantic import SecretStr

    from oneclick.images.runtime_image import RuntimeTarget, build_runtime_image
    from oneclick.registry import RegistryConfig, parse_image_reference

    if push_ref and layout:
        raise click.UsageError("give --push or --layout, not both")
    if push_ref:
        host = parse_image_reference(push_ref).host
        registry = RegistryConfig(
            url=host,
            insecure=insecure,
            username=username,
            password=SecretStr(password) if password else None,
        )
        target = RuntimeTarget(registry=registry, reference=push_ref)
    else:
        target = RuntimeTarget(layout=layout or context.home.images)
    started = time.monotonic()
    result = build_runtime_image(
        target,
        cache=context.home.root / "cache" / "runtime",
        packages="installed" if packages == "installed" else "index",
    )
    elapsed = time.monotonic() - started
    versions = ", ".join(f"{name} {version}" for name, version in result.packages.items())
    click.echo(f"runtime base: {result.reference}")
    click.echo(
        f"python {result.python}; {result.size / 1e6:.1f} MB compressed, "
        f"{result.unpacked_size / 1e6:.1f} MB unpacked; {result.uploaded} blob(s) written; "
        f"{elapsed:.1f} s"
    )
    click.echo(f"packages: {versions}")


COMMANDS = [runtime_group]
