"""The stable address of each app on each stage of the local runtime: one proxy process each.

The proxy (``oneclick.runtimes.proxy``) serves ``http://127.0.0.1:<port>`` and forwards each
request to the instance that the (stage, app)'s current instance record names, so a deploy
switches clients to its new instance by writing that record, and the address stays: its port
is chosen once, when the app first runs on the stage, and kept in the ``AddressRecord``
while the app is deployed there (``stop`` stops the proxy and keeps the port; ``undeploy``
gives it up).

``LocalAddresses.ensure(stage, app)`` (its caller holds the (stage, app) lock) makes sure the
proxy runs. When its recorded process is gone (``oneclick down``, a SIGKILL, a reboot), the
recorded port is bound here again (SO_REUSEADDR; the first time, a port the system picks),
the record is written with the port before the proxy exists, the proxy is started detached
with that listening socket, and the record is written again with its pid. A proxy a killed
deploy left before recording its pid is found by its command line (the route file's path)
and stopped first. Clients that connect while the proxy starts wait in the socket's backlog.
The recorded port held by another program is a ``TransientError`` saying so.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from pathlib import Path

from oneclick.errors import TransientError
from oneclick.runtimes.processes import (
    is_running,
    processes_mentioning,
    start_detached,
    stop_process,
)
from oneclick.runtimes.state import AddressRecord, StateStore

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
BACKLOG = 1024
PROXY_SOURCE = (Path(__file__).parent / "proxy.py").read_text(encoding="utf-8")


def proxy_command(python: str, route: str, *where: str) -> list[str]:
    """The command that runs the proxy with interpreter ``python``, listening ``where``
    (``--fd N`` or ``--listen HOST:PORT``), routing by the file ``route``. It runs the proxy
    module's source, so the interpreter needs uvicorn and h11, not oneclick."""
    return [python, "-P", "-c", PROXY_SOURCE, *where, "--route", route]


class LocalAddresses:
    """The proxies of a local runtime's state store, one per (stage, app)."""

    def __init__(self, state: StateStore, stop_timeout: float = 10.0) -> None:
        self.state = state
        self.stop_timeout = stop_timeout

    def route(self, stage: str, app: str) -> str:
        """The file the proxy routes by: the current instance record."""
        return str(self.state.record_path(stage, app))

    def read(self, stage: str, app: str) -> AddressRecord | None:
        return self.state.read_address(stage, app)

    def running(self, record: AddressRecord) -> bool:
        return is_running(record.pid, self.route(record.stage, record.app))

    def ensure(self, stage: str, app: str) -> tuple[AddressRecord, bool]:
        """The address of ``app`` on ``stage``, its proxy running; True if it was started."""
        record = self.read(stage, app)
        if record is not None and self.running(record):
            return record, False
        route = self.route(stage, app)
        for orphan in processes_mentioning(route):
            log.warning(
                "stopping proxy process %s of %s on %s, left unrecorded", orphan, app, stage
            )
            stop_process(orphan, route, self.stop_timeout)
        listener = _listen(stage, app, record.port if record is not None else 0)
        with listener:
            port = int(listener.getsockname()[1])
            log_path = self.state.root / "logs" / stage / app / "address.log"
            url = f"http://{HOST}:{port}"
            record = AddressRecord(stage=stage, app=app, port=port, url=url, log=str(log_path))
            self.state.write_address(record)  # the port is the app's from here on
            fd = listener.fileno()
            pid = start_detached(
                proxy_command(sys.executable, route, "--fd", str(fd)),
                env=_environment(),
                cwd=self.state.root,
                log_path=log_path,
                pass_fds=(fd,),
            )
        record = record.model_copy(update={"pid": pid})
        self.state.write_address(record)
        log.info("%s on %s answers at %s (proxy process %s)", app, stage, url, pid)
        return record, True

    def stop(self, stage: str, app: str) -> bool:
        """Stop the proxy of ``app`` on ``stage`` (its record and port stay); True if it ran."""
        record = self.read(stage, app)
        route = self.route(stage, app)
        return record is not None and stop_process(record.pid, route, self.stop_timeout)


def _listen(stage: str, app: str, port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((HOST, port))
        listener.listen(BACKLOG)
    except OSError as exc:
        listener.close()
        raise TransientError(
            f"the address of {app} on stage {stage}, {HOST}:{port}, is taken by another "
            f"program ({exc.strerror}); stop that program, then deploy again"
        ) from exc
    return listener


def _environment() -> dict[str, str]:
    """The proxy's environment: the search path and locale of this process, nothing else (it
    needs no setting, secret or credential)."""
    kept = ("PATH", "LANG", "LC_ALL", "TZ")
    env = {name: os.environ[name] for name in kept if name in os.environ}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env
