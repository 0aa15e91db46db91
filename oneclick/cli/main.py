"""``oneclick``: one group of verbs. Exit 0 on success, 1 on a oneclick error (one red line,
no traceback without --debug), 2 on a usage error.

Each command module imports only the small ``context`` module and click at the top, and
Prefect, SQLAlchemy and the rest inside its commands: ``--help`` and ``status`` stay fast.
"""

from __future__ import annotations

import os
import sys

import click

from oneclick.cli import (
    check,
    commands,
    config,
    history,
    kube,
    policies,
    relay,
    runtime,
    worker,
)
from oneclick.cli.context import Context
from oneclick.errors import OneclickError


@click.group()
@click.option("--debug", is_flag=True, envvar="ONECLICK_DEBUG", help="Show tracebacks.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """1-Click Publish for model-driven apps."""
    ctx.obj = Context(debug)


for module in (check, commands, config, history, kube, policies, relay, runtime, worker):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    debug = "--debug" in sys.argv or os.environ.get("ONECLICK_DEBUG") == "1"
    os.umask(0o077)  # what oneclick and the processes it starts write is its user's alone
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.UsageError as exc:  # one line, and where to read more
        command = exc.ctx.command_path if exc.ctx is not None else "oneclick"
        click.secho(f"error: {exc.format_message()} (`{command} --help`)", fg="red", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except OneclickError as exc:
        if debug:
            raise
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        click.secho(
            f"error: unexpected {type(exc).__name__}: {exc} (--debug shows the traceback)",
            fg="red",
            err=True,
        )
        sys.exit(1)
