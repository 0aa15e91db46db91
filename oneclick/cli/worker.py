"""``oneclick worker build``: make the image Prefect workers and their flow runs use.

The image is the runtime base plus oneclick's source, Prefect, every Python package oneclick
needs (copied from this environment) and the flows, under ``/opt/oneclick`` (see
``oneclick.images.worker_image``); no Docker engine is involved. It goes into an OCI layout
(``--layout DIR``; default: the layout under ONECLICK_HOME, which must hold the runtime base)
or is pushed to a registry (``--push host[:port]/<prefix>/oneclick-worker[:tag]``, on the
runtime base ``oneclick runtime build --push`` puts beside it,
``<prefix>/oneclick-runtime:python<X.Y>``, unless ``--base`` names another). The command
prints the reference pinned by digest: the image of a Docker work pool, or of a Kubernetes
work pool's job. Layers are cached under ONECLICK_HOME/cache/worker.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from oneclick.cli.context import Context, pass_context


@click.group(name="worker")
def worker_group() -> None:
    """The image of Prefect workers and their flow runs."""


@worker_group.command(name="build")
@click.option("--push", "push_ref", metavar="REF", help="Push to this registry reference.")
@click.option(
    "--layout", type=click.Path(file_okay=False, path_type=Path), help="Write to this OCI layout."
)
@click.option(
    "--base", metavar="REF", help="Build on this image instead of the default runtime base."
)
@click.option("--insecure", is_flag=True, help="Plain HTTP to the registry (127.0.0.1, a lab).")
@click.option("--username", envvar="ONECLICK_REGISTRY_USERNAME", help="Registry user.")
@click.option(
    "--password", envvar="ONECLICK_REGISTRY_PASSWORD", help="Registry password (better: env)."
)
@pass_context
def build_worker(
    context: Context,
    push_ref: str | None,
    layout: Path | None,
    base: str | None,
    insecure: bool,
    username: str | None,
    password: str | None,
) -> None:
    """Build the worker image (oneclick, Prefect and the flows on the runtime base)."""
    from pydantic import SecretStr

    from oneclick.images.worker_image import WorkerTarget, build_worker_image
    from oneclick.registry import RegistryConfig, parse_image_reference

    if push_ref and layout:
        raise click.UsageError("give --push or --layout, not both")
    if push_ref:
        parsed = parse_image_reference(push_ref)
        registry = RegistryConfig(  # the prefix the default runtime base is looked up under
            url=parsed.host,
            prefix=parsed.repository.rpartition("/")[0],
            insecure=insecure,
            username=username,
            password=SecretStr(password) if password else None,
        )
        target = WorkerTarget(registry=registry, reference=push_ref)
    else:
        target = WorkerTarget(layout=layout or context.home.images)
    started = time.monotonic()
    result = build_worker_image(target, cache=context.home.root / "cache" / "worker", base=base)
    elapsed = time.monotonic() - started
    if push_ref:
        delivered = (
            f"{result.uploaded} blob(s) uploaded ({result.uploaded_bytes / 1e6:.1f} MB), "
            f"{result.mounted} mounted, {result.present} already there"
        )
    else:
        delivered = (
            f"{result.uploaded} blob(s) written ({result.uploaded_bytes / 1e6:.1f} MB), "
            f"{result.present} already there"
        )
    click.echo(f"worker image: {result.reference}")
    click.echo(
        f"oneclick {result.oneclick}, prefect {result.prefect}, {len(result.packages)} "
        f"packages; {result.size / 1e6:.1f} MB compressed; {delivered}; {elapsed:.1f} s"
    )
    click.echo(f"base: {result.base}")


@worker_group.command(name="kubernetes")
@click.option("--image", required=True, help="The worker image (oneclick worker build --push).")
@click.option("--namespace", required=True, help="The namespace flow-run Jobs run in.")
@click.option("--service-account", default="oneclick-worker", show_default=True)
@click.option(
    "--env-secret",
    required=True,
    help="The Secret holding the Jobs' environment (PREFECT_API_URL and the like).",
)
@click.option(
    "--stage-namespace",
    "stage_namespaces",
    multiple=True,
    help="A namespace of a kubernetes stage the Jobs deploy to (repeat for each).",
)
@click.option(
    "--job-template",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the work pool's base job template (JSON).",
)
def kubernetes_pool(
    image: str,
    namespace: str,
    service_account: str,
    env_secret: str,
    stage_namespaces: tuple[str, ...],
    job_template: Path,
) -> None:
    """Print the service account and stage Roles of a Kubernetes work pool (for kubectl
    apply -f -) and write its base job template (for prefect work-pool create --type
    kubernetes --base-job-template FILE)."""
    import json

    import yaml

    from oneclick.runtimes.kubernetes.worker import (
        base_job_template,
        stage_access,
    )
    from oneclick.runtimes.kubernetes.worker import (
        service_account as account_manifest,
    )

    objects = [account_manifest(namespace, service_account)]
    for stage in stage_namespaces:
        objects += stage_access(stage, service_account, namespace)
    template = base_job_template(
        image, namespace=namespace, service_account_name=service_account, env_secret=env_secret
    )
    job_template.write_text(json.dumps(template, indent=2) + "\n")
    click.echo(yaml.safe_dump_all(objects, sort_keys=False), nl=False)
    click.echo(f"# base job template written to {job_template}", err=True)


COMMANDS = [worker_group]
