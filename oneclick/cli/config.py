"""``oneclick config APP --stage S [set NAME=VALUE | set --secret NAME | unset NAME]``: the
settings and secrets of an app on a stage, kept in the stage block.

Each change is checked against what the release the stage runs declares (its name, and a
setting's type); a secret's value is read from a hidden prompt or from stdin, never from the
command line. The change takes effect when the stage's release is rolled again with it
(``oneclick configure``), which the command offers to do.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from oneclick.cli.context import Context, pass_context, run_flow
from oneclick.errors import OneclickError

if TYPE_CHECKING:
    from blocks import Stage
    from oneclick.releases import ReleaseView


class Target:
    """The app on the stage: its stage block and the release whose declarations count."""

    def __init__(self, context: Context, app: str, stage: str) -> None:
        from blocks import Stage
        from oneclick.errors import StageError
        from oneclick.releases import Catalog

        self.context, self.app, self.stage = context, app, stage
        run_flow(context, lambda: None, stages=(stage,))
        block = Stage.load(stage)
        assert isinstance(block, Stage)
        self.block: Stage = block
        catalog = Catalog(context.catalog_url())
        current = catalog.current(app, stage)
        try:
            self.release: ReleaseView = catalog.release(app, current.version if current else None)
        except Exception as exc:
            raise StageError(f"no release of {app!r} is recorded: publish it first") from exc
        self.runs = current is not None

    @property
    def settings(self) -> dict[str, dict[str, Any]]:
        return {s["name"]: s for s in self.release.manifest.get("settings", [])}

    @property
    def secrets(self) -> list[str]:
        return list(self.release.manifest.get("secrets", []))

    def values(self) -> tuple[dict[str, str], dict[str, str]]:
        settings = dict(self.block.settings.get(self.app, {}))
        secrets = dict(self.block.secrets.get_secret_value().get(self.app, {}))
        return settings, secrets

    def save(self, settings: dict[str, str], secrets: dict[str, str]) -> None:
        from prefect.types import SecretDict

        self.block.settings = {**self.block.settings, self.app: settings}
        stored = dict(self.block.secrets.get_secret_value())
        stored[self.app] = secrets
        self.block.secrets = SecretDict(stored)
        self.block.save(self.stage, overwrite=True)

    def declared(self) -> str:
        names = [*self.settings, *(f"{s} (secret)" for s in self.secrets)]
        return ", ".join(names) or "nothing"


_SECRET_ON_ARGV = (
    "a secret's value is never read from the command line: give only its NAME "
    "and type the value at the prompt (or pipe it to stdin)"
)

_APPLY = click.option(
    "--apply/--no-apply", default=None, help="Roll the release with it now (default: ask)."
)


@click.command()
@click.argument("app")
@click.argument("action", required=False, type=click.Choice(["set", "unset"]))
@click.argument("assignment", required=False, metavar="[NAME=VALUE | NAME]")
@click.option("--stage", required=True, help="The stage whose block holds the values.")
@click.option("--secret", is_flag=True, help="set: NAME is a secret, its value read from stdin.")
@_APPLY
@pass_context
def config(
    context: Context,
    app: str,
    action: str | None,
    assignment: str | None,
    stage: str,
    secret: bool,
    apply: bool | None,
) -> None:
    """Show APP's settings and secrets on STAGE (secrets masked), or change one:
    `set NAME=VALUE`, `set --secret NAME` (the value from a prompt or stdin) or
    `unset NAME`. A change is checked against the release the stage runs, then it can be
    applied at once (--apply) or later with `oneclick configure`."""
    if action is not None and not assignment:
        raise click.UsageError(f"{action} needs a NAME" + ("=VALUE" if action == "set" else ""))
    if action is None and (assignment or secret):
        raise click.UsageError("say what to do: set NAME=VALUE, set --secret NAME or unset NAME")
    if secret and "=" in (assignment or ""):
        raise click.UsageError(_SECRET_ON_ARGV)
    target = Target(context, app, stage)
    if action == "set":
        assert assignment is not None
        set_value(target, assignment, secret)
    elif action == "unset":
        assert assignment is not None
        unset_value(target, assignment)
    else:
        show(target)
        return
    _offer_to_apply(target, apply)


def show(target: Target) -> None:
    from oneclick.cli.history import table

    settings, secrets = target.values()
    where = "runs there" if target.runs else "is not deployed there: its newest release"
    click.echo(f"{target.app} {target.release.version} {where}; stage block {target.stage!r}:")
    rows = [("NAME", "KIND", "VALUE")]
    for name, setting in target.settings.items():
        if name in settings:
            value = settings[name]
        elif setting.get("default") is not None:
            value = f"{setting['default']} (the model's default)"
        else:
            value = "MISSING"
        rows.append((name, f"setting ({setting.get('type', 'text')})", value))
    rows += [(name, "secret", "****" if name in secrets else "MISSING") for name in target.secrets]
    declared = target.settings.keys() | set(target.secrets)
    rows += [
        (name, "not declared", "(unused by this release)")
        for name in sorted((settings.keys() | secrets.keys()) - declared)
    ]
    table(rows)


def _check_setting(target: Target, name: str, value: str) -> None:
    from oneclick.model.values import default_problem

    if name in target.secrets:
        raise click.UsageError(f"{name} is a secret: `set --secret {name}` reads it from a prompt")
    declared = target.settings.get(name)
    if declared is None:
        raise OneclickError(
            f"{target.app} {target.release.version} declares no setting {name!r} "
            f"(it declares: {target.declared()})"
        )
    kind = declared.get("type", "text")
    typed: Any = value.lower() == "true" if value.lower() in ("true", "false") else value
    problem = default_problem(kind, typed if kind == "boolean" else value)
    if problem is not None:
        raise OneclickError(f"{name} is a {kind}: expected {problem}")


def _read_secret(name: str) -> str:
    if sys.stdin.isatty():
        value = click.prompt(f"value of {name}", hide_input=True, confirmation_prompt=True)
    else:
        value = sys.stdin.readline().rstrip("\n")
    if not value:
        raise click.UsageError(f"no value for {name} was given")
    return str(value)


def _offer_to_apply(target: Target, apply: bool | None) -> None:
    command = f"oneclick configure {target.app} --stage {target.stage}"
    if not target.runs:
        click.echo(f"{target.app} does not run on {target.stage}: the next publish uses it")
        return
    if apply is None:
        apply = sys.stdin.isatty() and click.confirm(
            f"roll {target.app} on {target.stage} with it now ({command})?", default=False
        )
    if not apply:
        click.echo(f"it takes effect when the release is rolled with it: {command}")
        return

    def start() -> Any:
        from flows.configure_app import apply_configuration

        return apply_configuration(target.app, target.stage)

    result = run_flow(target.context, start)
    click.secho(f"{result.app} {result.version} reconfigured on {result.stage}", fg="green")


def set_value(target: Target, assignment: str, secret: bool) -> None:
    """A setting (NAME=VALUE) or, with ``secret``, a secret (NAME; value from a prompt)."""
    settings, secrets = target.values()
    if secret:
        if assignment not in target.secrets:
            raise OneclickError(
                f"{target.app} {target.release.version} declares no secret {assignment!r} "
                f"(it declares: {target.declared()})"
            )
        secrets[assignment] = _read_secret(assignment)
        what = f"secret {assignment}"
    else:
        name, equals, value = assignment.partition("=")
        if not equals:
            raise click.UsageError("write NAME=VALUE (or --secret NAME for a secret)")
        _check_setting(target, name, value)
        settings[name] = value
        what = f"setting {name}={value}"
    target.save(settings, secrets)
    click.secho(f"{what} saved in stage block {target.stage!r}", fg="green")


def unset_value(target: Target, name: str) -> None:
    """Remove setting or secret NAME (a setting then takes the model's default)."""
    settings, secrets = target.values()
    if name not in settings and name not in secrets:
        raise OneclickError(f"{name!r} is not set on {target.stage}")
    declared = target.settings.get(name)
    needed = name in target.secrets or (declared is not None and declared.get("default") is None)
    if needed:
        raise OneclickError(
            f"{target.app} {target.release.version} needs {name}: without it the stage could "
            "not run the release; set another value instead"
        )
    settings.pop(name, None)
    secrets.pop(name, None)
    target.save(settings, secrets)
    click.secho(f"{name} removed from stage block {target.stage!r}", fg="green")


COMMANDS = [config]
