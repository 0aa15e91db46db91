"""What every command shares: the home, the way to the Prefect server, who runs the command,
and running a flow in process. Commands import this module; ``main`` adds them to the group."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from oneclick.errors import OneclickError, StageError
from oneclick.home import Home

if TYPE_CHECKING:
    from oneclick.releases.reading import CatalogReader

DEFAULT_PORT = 4200
DEFAULT_RELAY_PORT = 8787


class Context:
    def __init__(self, debug: bool) -> None:
        self.debug = debug
        self.home = Home.from_env().ensure()
        self._answered: str | None = None

    def api_url(self) -> str | None:
        """The Prefect server's API: PREFECT_API_URL, or the one `up` started if it answers.
        A server found once is not asked again; one not found is (``up`` starts it)."""
        from oneclick.cli.server import running_api_url

        if self._answered is None:
            self._answered = os.environ.get("PREFECT_API_URL") or running_api_url(self.home)
        return self._answered

    def connect(self) -> str:
        """Point Prefect at the running server (PREFECT_API_URL, or the one `up` started)."""
        from oneclick.cli.server import server_environment

        api_url = self.api_url()
        if not api_url:
            raise OneclickError("no Prefect server is running: start one with `oneclick up`")
        for key, value in server_environment(self.home, api_url).items():
            os.environ.setdefault(key, value)
        os.environ["PREFECT_API_URL"] = api_url
        os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "oneclick")
        from oneclick.cli.logs import quiet_tracebacks

        quiet_tracebacks(self.debug)
        return api_url

    def catalog_url(self) -> str:
        """The release catalog: the workspace block's when a server answers, read over the
        server's REST API (no Prefect import: `status` stays quick); else this home's."""
        from oneclick.cli.rest import workspace_catalog

        api_url = self.api_url()
        return (workspace_catalog(api_url) if api_url else None) or self.home.catalog_url

    @contextmanager
    def catalog_reader(self) -> Iterator[CatalogReader]:
        """The catalog to read, through its driver alone (no SQLAlchemy import); a catalog
        not made yet or not at the newest schema is brought there first."""
        from oneclick.releases.reading import open_reader

        url = self.catalog_url()
        with open_reader(url) as reader:
            if reader is not None:
                yield reader
                return
        from oneclick.releases import Catalog

        Catalog(url)
        with open_reader(url) as reader:
            if reader is None:
                raise OneclickError(f"the release catalog at {url} cannot be read")
            yield reader


pass_context = click.make_pass_decorator(Context)


def person() -> str:
    """Who runs this command, as the catalog records it."""
    import getpass

    try:
        return f"{getpass.getuser()} (CLI)"
    except (KeyError, OSError):
        return "CLI"


def run_flow(context: Context, start: Callable[[], Any], stages: tuple[str, ...] = ()) -> Any:
    """Run a flow in process against the server, after checking the stages it names exist.
    If the server goes away meanwhile, the command ends within seconds saying so."""
    from oneclick.cli.watch import server_watch

    api_url = context.connect()
    if stages:
        from flows.stages import stage_names

        known = stage_names()
        for name in stages:
            if name not in known:
                raise StageError(
                    f"unknown stage {name!r} (stages: {', '.join(known) or 'none'}); "
                    "`oneclick stages` lists them"
                )
    with server_watch(api_url):
        return start()
