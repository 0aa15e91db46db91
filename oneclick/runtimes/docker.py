"""The ``docker`` stage runtime: each (stage, app) is one container of a Docker engine.

``DockerRuntime(config).deploy(request)``, holding this process's (stage, app) lock:

1. finds the image: ``request.image_reference`` (a registry reference pinned by digest, or
   an engine image ID); a registry image the engine lacks is pulled by digest;
2. starts a container ``oneclick-<stage>-<app>-<n>`` with ``network_mode`` from the config
   (``host`` by default: the app listens on a free port of ``config.port_range``, passed as
   ``--port`` in the command), the image's own environment plus ``request.env`` (settings,
   secrets, database URL: the container's environment is the only place they go), the
   config's volumes, and labels ``dev.oneclick.app``, ``.stage``, ``.release``, ``.digest``,
   ``.port``, ``.url``, ``.started``, ``.namespace`` (no secret is ever a label);
3. polls ``/readyz`` until 200, the container exits, the request is aborted or
   ``ready_timeout`` passes;
4. ready (and the request's ``hold`` off): drops the ``-starting`` suffix of its name, gives
   it the restart policy ``unless-stopped``, then, ``drain`` seconds later, stops and
   removes every other container of (namespace, stage, app); not ready: removes the new
   container, leaves the previous one serving and raises ``DeployError`` with the reason and
   the container's last log lines, secrets scrubbed.

The engine brings an instance and its address back after it restarts (a reboot) and
restarts one whose process ended on its own; one oneclick stopped stays stopped
(``unless-stopped``), one it retired is removed. A container gets the policy only once it
is ready (the address: once it answers), so one that never gets ready exits and is removed,
never restarted over and over, and one a killed deploy left ``-starting`` stays down until
``reap``. Apps and addresses listen on ports of their own, fixed when they are made, so a
container the engine restarted is reached where it was.

Each (stage, app) is reached at one stable address across releases: a proxy container
(``oneclick.runtimes.docker_address``) on a port kept for the app, made or started again at
the start of a deploy, switched to the new container once it is ready (after the rename
above), before the previous one is retired; results and statuses give that address as
``url`` and the container's own as ``instance_url``.

A container whose name still ends in ``-starting`` never became the stage's instance: a
deploy killed mid-way left it. ``reap`` (at the start of every deploy, and from the rollout
engine) removes such containers; ``status`` never reports them.

The engine is the record: ``status``/``instances`` read containers by label, ``stop`` stops
a container and keeps it, ``undeploy`` removes it. ``namespace`` keeps two installations (or
two test runs) sharing one engine apart. Deploys of the same (stage, app) are serialized
within a process; flows serialize across processes with their concurrency limits.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions
from docker.models.containers import Container

from oneclick.errors import DeployError, TransientError
from oneclick.images.spec import APP_PORT
from oneclick.runtimes.docker_address import DockerAddresses, is_proxy
from oneclick.runtimes.docker_config import DockerRuntimeConfig
from oneclick.runtimes.docker_image import find_image
from oneclick.runtimes.probe import healthy, ignore_progress, wait_ready
from oneclick.runtimes.redact import redact
from oneclick.runtimes.types import DeployRequest, DeployResult, InstanceStatus, ProgressCallback

log = logging.getLogger(__name__)

LABEL = "dev.oneclick"
LOG_TAIL_LINES = 20
PORT_ATTEMPTS = 3
STARTING = "-starting"
RESTART_POLICY = "unless-stopped"
UP = ("running", "restarting")  # restarting: the engine starts it again after a pause
_EngineErrors = (docker.errors.DockerException, requests.exceptions.RequestException)


class DockerRuntime:
    """Runs each app of a stage as a container of the engine at ``config.engine_url``."""

    def __init__(
        self,
        config: DockerRuntimeConfig | None = None,
        client: docker.DockerClient | None = None,
        auth: dict[str, str] | None = None,
    ) -> None:
        self.config = config or DockerRuntimeConfig()
        self._client = client
        self._auth = auth
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self.addresses = DockerAddresses(self)

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            try:
                self._client = docker.DockerClient(base_url=self.config.engine_url, timeout=120)
            except _EngineErrors as exc:
                raise TransientError(
                    f"expected a Docker engine at {self.config.engine_url}, found none "
                    f"answering ({exc}); start it or correct the stage's engine URL"
                ) from exc
        return self._client

    def deploy(self, request: DeployRequest) -> DeployResult:
        """Start ``request.release`` in a container and retire the previous one once ready."""
        progress = request.on_progress or ignore_progress
        with self._lock(request.stage, request.app):
            try:
                for leftover in self._reap(request.stage, request.app):
                    progress(f"removed {leftover}")
                image = find_image(self.client, request, progress, self._auth)
                previous = self.containers(request.stage, request.app)
                current = previous[0] if previous else None
                proxy = self.addresses.ensure(request.stage, request.app, image, current, progress)
                address = _label(proxy, "url")
                try:
                    container, port = self._start_ready(request, image, previous, progress, address)
                except BaseException:
                    if current is None:  # a first release that failed leaves nothing
                        self._remove(proxy)
                    raise
                container.rename(str(container.name).removesuffix(STARTING))
                container.reload()  # its new name, which the address may forward to
                self.keep_up(container)
                self.addresses.switch(proxy, container)
                if previous:
                    time.sleep(self.config.drain)  # clients that found it still reach it
                for old in previous:
                    progress(f"retiring previous release {_label(old, 'release')} ({old.name})")
                    self._remove(old)
            except _EngineErrors as exc:
                raise TransientError(
                    f"the Docker engine failed while deploying {request.app} "
                    f"{request.release} to {request.stage}: {redact(str(exc), request.env)}"
                ) from exc
        container.reload()
        log.info("deployed %s %s on %s in %s", request.app, request.release, request.stage,
                 container.name)  # fmt: skip
        return DeployResult(
            stage=request.stage,
            app=request.app,
            release=request.release,
            digest=request.image_digest,
            url=address,
            instance_url=_label(container, "url"),
            pid=int(container.attrs["State"]["Pid"]),
            port=port,
            started_at=_label(container, "started"),
            log=Path(str(container.attrs.get("LogPath") or "")),
            previous_release=_label(previous[0], "release") if previous else None,
            container=container.id,
        )

    def status(self, stage: str, app: str) -> InstanceStatus | None:
        """The newest container of ``app`` on ``stage``, checked now; None if none."""
        containers = self.containers(stage, app)
        return self._check(containers[0]) if containers else None

    def instances(self) -> list[InstanceStatus]:
        """Every container of this namespace, checked now."""
        return [self._check(c) for c in self.containers()]

    def stop(self, stage: str, app: str) -> bool:
        """Stop the containers of ``app`` on ``stage`` and its address (they stay); True if
        an instance ran."""
        stopped = False
        for container in self.containers(stage, app, everything=True):
            if container.status in UP:
                container.stop(timeout=self.config.stop_timeout)
                stopped = stopped or not is_proxy(container)
        return stopped

    def stop_all(self) -> list[InstanceStatus]:
        """Stop every running container of this namespace; returns the instances among them
        as they are now."""
        stopped = []
        for container in self.containers(everything=True):
            if container.status in UP:
                container.stop(timeout=self.config.stop_timeout)
                if not is_proxy(container):
                    stopped.append(self._check(container))
        return stopped

    def undeploy(self, stage: str, app: str) -> bool:
        """Remove every container of ``app`` on ``stage``, its address's too; True if there
        was an instance."""
        with self._lock(stage, app):
            containers = self.containers(stage, app, everything=True)
            for container in containers:
                self._remove(container)
        return any(not is_proxy(container) for container in containers)

    def reap(self, stage: str, app: str) -> list[str]:
        """Remove the containers a killed deploy of ``app`` on ``stage`` left behind."""
        with self._lock(stage, app):
            return self._reap(stage, app)

    def _reap(self, stage: str, app: str) -> list[str]:
        removed = []
        for container in self.containers(stage, app, everything=True):
            if str(container.name).endswith(STARTING):
                log.warning("removing %s, left by a deploy that did not finish", container.name)
                self._remove(container)
                removed.append(f"container {container.name}")
        return removed

    def _lock(self, stage: str, app: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault((stage, app), threading.Lock())

    def containers(
        self, stage: str | None = None, app: str | None = None, *, everything: bool = False
    ) -> list[Container]:
        """The instances of this namespace (of one stage and app), newest first; with
        ``everything``, also those still ``-starting`` and the address proxies."""
        labels = [f"{LABEL}.namespace={self.config.namespace}"]
        labels += [f"{LABEL}.stage={stage}"] if stage is not None else []
        labels += [f"{LABEL}.app={app}"] if app is not None else []
        found = self.client.containers.list(
            all=True, filters={"label": labels}, ignore_removed=True
        )
        if not everything:
            found = [c for c in found if not str(c.name).endswith(STARTING) and not is_proxy(c)]
        return sorted(found, key=lambda c: str(c.attrs.get("Created", "")), reverse=True)

    def _start_ready(
        self,
        request: DeployRequest,
        image: str,
        previous: list[Container],
        progress: ProgressCallback,
        address: str,
    ) -> tuple[Container, int]:
        """Start the container and wait for it; another port is tried if the first was taken."""
        reason, tail = "it was not started", ""
        taken = {int(_label(c, "port") or 0) for c in self.containers(everything=True)}
        for _attempt in range(PORT_ATTEMPTS):
            port = self.free_port(taken)
            taken.add(port)
            container = self._run(request, image, port, address)
            progress(f"started {request.app} {request.release} as {container.name} on {port}")
            try:
                failure = self._wait_ready(container, port, request)
            except BaseException:
                self._remove(container)
                raise
            if failure is None:
                return container, port
            tail = _logs(container)
            self._remove(container)
            reason = failure
            if "address already in use" not in tail.lower():
                break
            progress(f"port {port} was taken; trying another")
        keeps = f"{previous[0].name} keeps serving" if previous else "nothing else was running"
        lines = "\n".join(f"  | {line}" for line in tail.splitlines()[-LOG_TAIL_LINES:])
        raise DeployError(
            redact(
                f"{request.app} {request.release} did not become ready on stage "
                f"{request.stage}: {reason}. Its container was removed; {keeps}. Last lines "
                f"of its log:\n{lines or '  | (nothing)'}",
                request.env,
            )
        )

    def labels(self, stage: str, app: str, port: int, **more: str) -> dict[str, str]:
        """The labels of a container of ``app`` on ``stage`` reached on ``port``."""
        found = {
            "namespace": self.config.namespace,
            "app": app,
            "stage": stage,
            "port": str(port),
            "url": f"http://{self.config.host}:{port}",
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            **more,
        }
        return {f"{LABEL}.{name}": value for name, value in found.items()}

    def _run(self, request: DeployRequest, image: str, port: int, address: str) -> Container:
        def serve(host: str, inner_port: int) -> list[str]:
            return [
                *("python", "-m", "uvicorn", "--app-dir", "/app", "server.main:app"),
                *("--host", host, "--port", str(inner_port)),
            ]

        labels = self.labels(
            request.stage,
            request.app,
            port,
            release=request.release,
            digest=request.image_digest,
            address=address,
        )
        return self.run_container(
            image,
            (f"oneclick-{request.stage}-{request.app}", STARTING),
            port,
            serve,
            labels,
            environment=dict(request.env),
            volumes={path: {"bind": path, "mode": "rw"} for path in self.config.volumes},
        )

    def run_container(
        self,
        image: str,
        name: tuple[str, str],
        port: int,
        command: Callable[[str, int], list[str]],
        labels: dict[str, str],
        **options: Any,
    ) -> Container:
        """Run ``command(host, port)`` in a new container named ``<name[0]>-<n><name[1]>``,
        reached on ``port`` of the configured host (on the host network it listens there
        itself; otherwise on ``APP_PORT``, published there)."""
        config = self.config
        listen = (config.host, port)
        if config.network != "host":
            listen = ("0.0.0.0", APP_PORT)
            options["ports"] = {f"{APP_PORT}/tcp": (config.host, port)}
        suffix = int(time.time() * 1000) % 10**10
        return self.client.containers.run(
            image,
            command(*listen),
            name=f"{name[0]}-{suffix}{name[1]}",
            detach=True,
            labels=labels,
            network_mode=config.network,
            **options,
        )

    def _wait_ready(self, container: Container, port: int, request: DeployRequest) -> str | None:
        """None once ``/readyz`` answers 200; else why not."""

        def ended() -> str | None:
            container.reload()
            if container.status not in ("exited", "dead"):
                return None
            return f"the container exited with code {container.attrs['State'].get('ExitCode')}"

        base_url = f"http://{self.config.host}:{port}"
        return wait_ready(base_url, request, ended, self.config.poll_interval)

    def free_port(self, taken: set[int]) -> int:
        """A port of the range that no container of this runtime claims and nothing holds,
        looked for from a random place in the range: runs deploying at the same time (on
        other workers too) rarely reach for the same one."""
        low, high = self.config.port_range
        start = random.randint(low, high)
        ports: list[int] = list(range(start, high + 1)) + list(range(low, start))
        for port in ports:
            if port not in taken and _bindable(self.config.host, port):
                return port
        raise DeployError(
            f"no free port left in {low}-{high} on {self.config.host}; widen the stage's "
            "port range or undeploy apps that are no longer needed"
        )

    def keep_up(self, container: Container) -> None:
        """Have the engine start ``container`` again when it restarts, or when the
        container's process ends without oneclick stopping it."""
        policy = container.attrs.get("HostConfig", {}).get("RestartPolicy") or {}
        if policy.get("Name") != RESTART_POLICY:
            wanted: Any = {"Name": RESTART_POLICY}  # the SDK's types miss "unless-stopped"
            container.update(restart_policy=wanted)

    def _remove(self, container: Container) -> None:
        """Stop ``container`` (a stop the engine never undoes) and remove it."""
        try:
            if container.status in UP:
                container.stop(timeout=self.config.stop_timeout)
            container.remove(force=True)
        except docker.errors.NotFound:
            return

    def _check(self, container: Container) -> InstanceStatus:
        """Alive: the container and its address run; healthy: ``/healthz`` answers at the
        address (a container from before addresses: at its own URL)."""
        proxy = self.addresses.find(_label(container, "stage"), _label(container, "app"))
        alive = container.status == "running"
        alive = alive and (proxy is None or proxy.status == "running")
        url = _label(container, "address") or _label(container, "url")
        return InstanceStatus(
            stage=_label(container, "stage"),
            app=_label(container, "app"),
            release=_label(container, "release"),
            digest=_label(container, "digest"),
            url=url,
            instance_url=_label(container, "url"),
            pid=int(container.attrs.get("State", {}).get("Pid", 0)),
            port=int(_label(container, "port") or 0),
            started_at=_label(container, "started"),
            alive=alive,
            healthy=alive and healthy(url),
            container=container.id,
        )


def _label(container: Container, name: str) -> str:
    return str(container.labels.get(f"{LABEL}.{name}", ""))


def _logs(container: Container) -> str:
    try:
        return bytes(container.logs(tail=LOG_TAIL_LINES * 2)).decode("utf-8", "replace")
    except _EngineErrors:
        return ""


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
