"""The ``local`` stage runtime: each (stage, app) is one uvicorn process on this machine,
reached at a stable address: a proxy of its own (``oneclick.runtimes.local_address``) on a
port kept for good, which forwards to whichever instance the current record names.

``LocalRuntime(root).deploy(request)``, holding the (stage, app) lock:

1. unpacks the image into ``root/images/<digest hex>`` (a cache shared by every stage), and
   makes sure the address's proxy runs (started again on its port if it was stopped or
   killed, forwarding to the previous instance, if any);
2. starts ``<this python> -m uvicorn --app-dir <unpacked>/app server.main:app --host
   127.0.0.1 --port <free port>`` detached (setsid, its own process group), output to
   ``root/logs/<stage>/<app>/<release>.log``; its environment is this process's without any
   ``ONECLICK_*`` variable, plus the image config's ``Env`` (except ``PATH``), plus
   ``request.env``;
3. polls ``/readyz`` until it answers 200 (and the request's ``hold`` is off), the process
   exits, the request is aborted, or ``ready_timeout`` passes;
4. ready: records the instance (``oneclick.runtimes.state``), which switches the proxy to
   it (each request that starts afterwards reaches it), and only then stops the previous
   instance, ``drain`` seconds later (requests already under way finish); not ready: stops
   the new process, leaves the previous one running and recorded, and raises
   ``DeployError`` with the reason and the end of the new process's log, with every secret
   value scrubbed out.

The new process is recorded as *starting* before it exists (with pid 0 until its pid is
known; ``reap`` finds such a process by its exact command line), and the previous one as
*retiring* before it stops being the current one, so a deploy killed at any point leaves
every process it made in a record: ``reap`` (called at the start of every deploy, and by the
rollout engine) and ``stop_all`` stop them. ``stop``/``stop_all`` stop the proxies too, and
a deploy of the recorded release (``oneclick up`` restores each stage app so) brings the
app back at the same address; ``undeploy`` gives the address up. A first release that
fails leaves no proxy running.

Request environment values are never written anywhere but the child's environment.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from oneclick.errors import BuildError, DeployError
from oneclick.runtimes.local_address import LocalAddresses
from oneclick.runtimes.local_logs import Failure, append_header, failure_message, read_log
from oneclick.runtimes.probe import healthy, ignore_progress, wait_ready
from oneclick.runtimes.processes import (
    exit_code,
    free_port,
    is_running,
    processes_mentioning,
    start_detached,
    stop_process,
)
from oneclick.runtimes.state import (
    ADDRESS,
    IN_FLIGHT,
    RETIRING,
    STARTING,
    AddressRecord,
    InstanceRecord,
    StateStore,
)
from oneclick.runtimes.types import (
    DeployRequest,
    DeployResult,
    InstanceStatus,
    ProgressCallback,
)

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
PORT_ATTEMPTS = 3
DRAIN_SECONDS = 1.0


class LocalRuntime:
    """Runs apps as local processes; everything it keeps lives under ``root``."""

    def __init__(
        self,
        root: Path,
        *,
        poll_interval: float = 0.2,
        stop_timeout: float = 10.0,
        drain: float = DRAIN_SECONDS,
    ) -> None:
        self.root = root.absolute()
        self.poll_interval = poll_interval
        self.stop_timeout = stop_timeout
        self.drain = drain
        self.state = StateStore(self.root)
        self.addresses = LocalAddresses(self.state, stop_timeout)

    def deploy(self, request: DeployRequest) -> DeployResult:
        """Start ``request.release`` and make it the stage's instance once it is ready."""
        progress = request.on_progress or ignore_progress
        with self.state.locked(request.stage, request.app):
            for leftover in self._reap(request.stage, request.app):
                progress(f"stopped {leftover}")
            previous = self.state.read(request.stage, request.app)
            progress(f"unpacking image {request.image_digest}")
            app_dir, image_env = self._unpack(request)
            env = _environment(image_env, request.env)
            address, started = self.addresses.ensure(request.stage, request.app)
            if started:
                progress(f"started the address of {request.app} on {request.stage}: {address.url}")
            try:
                record = self._start_ready(request, app_dir, env, progress)
            except BaseException:
                if previous is None:  # a first release that failed leaves nothing running
                    self.addresses.stop(request.stage, request.app)
                raise
            if previous is not None:
                self.state.write(previous, RETIRING)
            self.state.write(record)  # the switch: the proxy forwards to it from here on
            self.state.delete(request.stage, request.app, STARTING)
            progress(f"{request.app} {request.release} is ready at {address.url}")
            self._retire(previous, record, progress)
            self.state.delete(request.stage, request.app, RETIRING)
        log.info(
            "deployed %s %s on %s at %s", request.app, request.release, request.stage, address.url
        )
        return DeployResult(
            **_shared(record, address),
            log=Path(record.log),
            previous_release=previous.release if previous is not None else None,
        )

    def status(self, stage: str, app: str) -> InstanceStatus | None:
        """The recorded instance of ``app`` on ``stage``, checked now; None if none."""
        record = self.state.read(stage, app)
        return None if record is None else self._check(record)

    def instances(self) -> list[InstanceStatus]:
        """Every recorded instance on every stage, checked now."""
        return [self._check(record) for record in self.state.records()]

    def stop(self, stage: str, app: str) -> bool:
        """Stop the process of ``app`` on ``stage`` (its record stays); True if it ran."""
        with self.state.locked(stage, app):
            record = self.state.read(stage, app)
            if record is None:
                return False
            stopped = stop_process(record.pid, record.app_dir, self.stop_timeout)
            self.addresses.stop(stage, app)
        if stopped:
            log.info("stopped %s %s on %s", app, record.release, stage)
        return stopped

    def stop_all(self) -> list[InstanceStatus]:
        """Stop every recorded instance, and what killed deploys left; returns those that
        were running, as they are now."""
        stopped = []
        for record in self.state.records():
            if self.stop(record.stage, record.app):
                stopped.append(self._check(record))
        for kind in IN_FLIGHT:
            for record in self.state.records(kind):
                with self.state.locked(record.stage, record.app):
                    if self._stop_recorded(record):
                        stopped.append(self._check(record))
                    self.state.delete(record.stage, record.app, kind)
        for address in self.state.addresses():
            with self.state.locked(address.stage, address.app):
                self.addresses.stop(address.stage, address.app)
        return stopped

    def reap(self, stage: str, app: str) -> list[str]:
        """Stop the processes a killed deploy of ``app`` on ``stage`` left running."""
        with self.state.locked(stage, app):
            return self._reap(stage, app)

    def _reap(self, stage: str, app: str) -> list[str]:
        stopped = []
        for kind in IN_FLIGHT:
            record = self.state.read(stage, app, kind)
            if record is None:
                continue
            if self._stop_recorded(record):
                what = f"{kind} {app} {record.release} (process {record.pid or 'not recorded'})"
                log.warning("stopped %s on %s, left by a deploy that did not finish", what, stage)
                stopped.append(what)
            self.state.delete(stage, app, kind)
        return stopped

    def undeploy(self, stage: str, app: str) -> bool:
        """Stop ``app`` on ``stage`` and forget it; True if there was a record."""
        with self.state.locked(stage, app):
            self._reap(stage, app)
            record = self.state.read(stage, app)
            if record is not None:
                stop_process(record.pid, record.app_dir, self.stop_timeout)
            self.addresses.stop(stage, app)
            self.state.delete(stage, app, ADDRESS)
            return self.state.delete(stage, app)

    def _stop_recorded(self, record: InstanceRecord) -> bool:
        """Stop a recorded process; one recorded before its pid was known is found by its
        exact command line. True if one ran."""
        if record.pid:
            return stop_process(record.pid, record.app_dir, self.stop_timeout)
        command = "\0".join(server_command(Path(record.app_dir), record.port)) + "\0"
        found = processes_mentioning(command)
        for pid in found:
            stop_process(pid, record.app_dir, self.stop_timeout)
        return bool(found)

    def _retire(
        self,
        previous: InstanceRecord | None,
        current: InstanceRecord,
        progress: ProgressCallback,
    ) -> None:
        """Stop the instance ``current`` replaces, if it still runs."""
        if previous is None or previous.pid == current.pid:
            return
        if not is_running(previous.pid, previous.app_dir):
            return
        progress(f"stopping previous release {previous.release} (process {previous.pid})")
        time.sleep(self.drain)  # clients that found it before the switch still reach it
        if stop_process(previous.pid, previous.app_dir, self.stop_timeout):
            log.info("stopped previous release %s of %s", previous.release, current.app)

    def _unpack(self, request: DeployRequest) -> tuple[Path, list[str]]:
        """The unpacked image's app directory and the image config's ``Env``."""
        from oneclick.images import image_config, unpack_image

        hex_digest = request.image_digest.removeprefix("sha256:")
        try:
            config = image_config(request.image_root, request.image_digest)
            unpacked = unpack_image(
                request.image_root, request.image_digest, self.root / "images" / hex_digest
            )
        except BuildError as exc:
            raise DeployError(
                f"cannot deploy {request.app} {request.release} to {request.stage}: "
                f"the image cannot be unpacked: {exc}"
            ) from exc
        app_dir = unpacked / "app"
        if not (app_dir / "server" / "main.py").is_file():
            raise DeployError(
                f"expected image {request.image_digest} to hold /app/server/main.py, found "
                "none; build the image from a compiled app build"
            )
        return app_dir, [str(item) for item in config.get("config", {}).get("Env", [])]

    def _start_ready(
        self,
        request: DeployRequest,
        app_dir: Path,
        env: dict[str, str],
        progress: ProgressCallback,
    ) -> InstanceRecord:
        """Start the app and wait for it; a free port is retried if another took it."""
        log_path = self.root / "logs" / request.stage / request.app / f"{request.release}.log"
        failure = Failure("it was not started")
        offset = 0
        for _attempt in range(PORT_ATTEMPTS):
            port = free_port(HOST)
            offset = append_header(log_path, request, port)
            self.state.write(_record(request, app_dir, 0, port, log_path), STARTING)
            try:
                pid = start_detached(
                    server_command(app_dir, port), env=env, cwd=app_dir, log_path=log_path
                )
            except OSError as exc:
                self.state.delete(request.stage, request.app, STARTING)
                raise DeployError(
                    f"cannot start {request.app} {request.release} on {request.stage}: {exc}"
                ) from exc
            self.state.write(_record(request, app_dir, pid, port, log_path), STARTING)
            progress(f"started {request.app} {request.release} as process {pid} on port {port}")
            url = f"http://{HOST}:{port}"
            try:
                outcome = self._wait_ready(pid, url, log_path, offset, request)
            except BaseException:
                self._discard(request, pid, app_dir)
                raise
            if outcome is None:
                return _record(request, app_dir, pid, port, log_path)
            self._discard(request, pid, app_dir)
            failure = outcome
            if not failure.port_taken:
                break
            progress(f"port {port} was taken; trying another")
        raise DeployError(failure_message(request, failure, log_path, offset))

    def _discard(self, request: DeployRequest, pid: int, app_dir: Path) -> None:
        """Stop a new process that will not serve, and forget it."""
        stop_process(pid, str(app_dir), self.stop_timeout)
        self.state.delete(request.stage, request.app, STARTING)

    def _wait_ready(
        self, pid: int, url: str, log_path: Path, offset: int, request: DeployRequest
    ) -> Failure | None:
        """Poll ``/readyz`` until 200 (None), the process exits, the request is aborted or
        its ``ready_timeout`` passes."""

        def ended() -> str | None:
            code = exit_code(pid)
            return None if code is None else f"the process exited with code {code}"

        reason = wait_ready(url, request, ended, self.poll_interval)
        if reason is None:
            return None
        exited = exit_code(pid) is not None
        taken = exited and "address already in use" in read_log(log_path, offset).lower()
        return Failure(reason, port_taken=taken)

    def _check(self, record: InstanceRecord) -> InstanceStatus:
        """Alive: the instance and its address's proxy run; healthy: ``/healthz`` answers
        through the address."""
        address = self.addresses.read(record.stage, record.app)
        alive = is_running(record.pid, record.app_dir)
        alive = alive and (address is None or self.addresses.running(address))
        shared = _shared(record, address)
        return InstanceStatus(**shared, alive=alive, healthy=alive and healthy(shared["url"]))


def server_command(app_dir: Path, port: int) -> list[str]:
    """The command that serves the app in ``app_dir`` on ``127.0.0.1:<port>``."""
    return [
        *(sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir), "server.main:app"),
        *("--host", HOST, "--port", str(port)),
    ]


def _environment(image_env: list[str], request_env: dict[str, str]) -> dict[str, str]:
    """This process's environment without ``ONECLICK_*``, the image's (but PATH), the request's."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("ONECLICK_")}
    for item in image_env:
        name, _, value = item.partition("=")
        if name != "PATH":
            env[name] = value
    env.update(request_env)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _record(
    request: DeployRequest, app_dir: Path, pid: int, port: int, log_path: Path
) -> InstanceRecord:
    return InstanceRecord(
        stage=request.stage,
        app=request.app,
        release=request.release,
        digest=request.image_digest,
        pid=pid,
        port=port,
        url=f"http://{HOST}:{port}",
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        app_dir=str(app_dir),
        log=str(log_path),
    )


_SHARED = {"stage", "app", "release", "digest", "url", "pid", "port", "started_at"}


def _shared(record: InstanceRecord, address: AddressRecord | None) -> dict[str, Any]:
    """The fields an instance record has in common with results and statuses; ``url`` is
    the stable address, if the app has one, and ``instance_url`` the instance's own."""
    shared = record.model_dump(include=_SHARED)
    if address is not None:
        shared.update(url=address.url, instance_url=record.url)
    return shared
