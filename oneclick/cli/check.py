"""``oneclick check PATH``: check an app or library model without publishing it.

No server is needed: libraries an app uses are looked up in this machine's library store
(where ``oneclick publish library`` puts them on the embedded default). Every problem is
printed as ``file:line:column: message``; the exit code is 1 when there is any.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from oneclick.cli.context import Context, pass_context


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@pass_context
def check(context: Context, path: Path) -> None:
    """Check the app or library model at PATH (a model file or its directory): every
    problem as file:line:column, exit code 1 if there is any."""
    from oneclick.errors import ModelError, OneclickError
    from oneclick.libraries.store import LibraryStore
    from oneclick.model.load import APP_FILE, LIBRARY_FILE, load_app, load_library

    is_library = path.name == LIBRARY_FILE or (path / LIBRARY_FILE).is_file()
    if path.is_dir() and not (path / APP_FILE).exists() and not is_library:
        raise OneclickError(f"{path} holds neither {APP_FILE} nor {LIBRARY_FILE}")
    libraries = LibraryStore(context.home.libraries)
    try:
        if is_library:
            library = load_library(path, libraries)
            what = f"library {library.library} {library.version}"
        else:
            app = load_app(path, libraries)
            what = f"app {app.app} {app.version}"
    except ModelError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        count = len(exc.problems)
        click.secho(f"{count} problem{'s' if count != 1 else ''}", fg="red", err=True)
        sys.exit(1)
    click.secho(f"{what}: no problems", fg="green")


COMMANDS = [check]
