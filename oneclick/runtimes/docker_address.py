"""The stable address of each app on each stage of the docker runtime: a proxy container.

The container ``oneclick-<stage>-<app>-address-<n>`` runs the proxy (``oneclick.runtimes.proxy``,
its source given to ``python -c``) from an image of the app, which holds Python, uvicorn and
h11; it gets no environment but the image's, so no setting or secret. It is labelled like the
app's containers plus ``dev.oneclick.role=address``, and its ``.port``/``.url`` labels are the
stage address. With the host network it listens on that port itself and forwards to the app
container's own port; otherwise it publishes ``APP_PORT`` there and forwards to the app
container by its name on the container network (the engine's DNS follows the container when
an engine restart gives it another IP address). The default ``bridge`` network has no such
DNS: there the proxy forwards to the container's IP address, which an engine restart may
change, and the address answers 502 until the next deploy switches it again; give a docker
stage a network of its own (``docker network create``).

Its route file (``ROUTE``, inside the container) names the instance it forwards to;
``switch`` rewrites it atomically with ``docker exec`` once the new instance is ready, so a
remote engine works the same; the file is in the container's own filesystem, so a proxy the
engine restarted forwards where it did. ``ensure`` starts a stopped (or killed) proxy
container again, on its port, forwarding where it did; when there is none, it makes one on the
port the current instance's ``.address`` label names (a free port of the range the first
time), forwarding to the current instance, and waits until the address answers. Once it
answers it has the restart policy ``unless-stopped`` (``DockerRuntime.keep_up``), like the
instances. The engine is the record: ``undeploy`` removes the proxy container with the
app's, and the address with it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
from docker.models.containers import Container

from oneclick.errors import TransientError
from oneclick.images.spec import APP_PORT
from oneclick.runtimes.local_address import proxy_command
from oneclick.runtimes.types import ProgressCallback

if TYPE_CHECKING:
    from oneclick.runtimes.docker import DockerRuntime

ROUTE = "/tmp/oneclick-route.json"
ROLE = "address"
ANSWER_TIMEOUT = 60.0
PORT_ATTEMPTS = 3
NO_DNS = frozenset({"bridge", "default"})  # the default bridge network: no names, IPs only


class DockerAddresses:
    """The proxy containers of one docker runtime."""

    def __init__(self, runtime: DockerRuntime) -> None:
        self.runtime = runtime

    def find(self, stage: str, app: str) -> Container | None:
        """The proxy container of ``app`` on ``stage``, if there is one."""
        found = [c for c in self.runtime.containers(stage, app, everything=True) if is_proxy(c)]
        return found[0] if found else None

    def ensure(
        self,
        stage: str,
        app: str,
        image: str,
        current: Container | None,
        progress: ProgressCallback,
    ) -> Container:
        """The proxy container of ``app`` on ``stage``, running and answering."""
        proxy = self.find(stage, app)
        if proxy is not None and proxy.status == "running":
            self.runtime.keep_up(proxy)  # one made before addresses had a restart policy
            return proxy
        if proxy is not None:
            progress(f"starting the address of {app} on {stage} again: {label(proxy, 'url')}")
            proxy.start()  # one the engine is restarting already: nothing to do
            self._wait_answering(proxy)
            self.runtime.keep_up(proxy)
            return proxy
        for _ in range(PORT_ATTEMPTS):
            proxy = self._create(stage, app, image, current)
            progress(f"started the address of {app} on {stage}: {label(proxy, 'url')}")
            try:
                self._wait_answering(proxy)
                self.runtime.keep_up(proxy)
                return proxy
            except TransientError as exc:
                if "address already in use" not in str(exc).lower() or current is not None:
                    raise
                # another deploy took the port at the same moment: the address is not
                # recorded anywhere yet, so take another
                progress(f"port {label(proxy, 'port')} was taken; trying another")
                proxy.remove(force=True)
        raise TransientError(f"no free port held for the address of {app} on {stage}")

    def switch(self, proxy: Container, instance: Container) -> None:
        """Forward every request that starts from now on to ``instance``."""
        url = self.upstream(instance)
        code, output = proxy.exec_run(proxy_command("python", ROUTE, "--switch-to", url))
        if code != 0:
            text = output.decode("utf-8", "replace")[-500:] if isinstance(output, bytes) else ""
            raise TransientError(
                f"could not switch {proxy.name} to {url} (exit code {code}): {text}"
            )

    def upstream(self, instance: Container) -> str:
        """Where the proxy reaches ``instance``: its own address on the host network, its
        name on another network (its IP address on the default bridge network, which has no
        DNS)."""
        config = self.runtime.config
        if config.network == "host":
            return label(instance, "url")
        if config.network not in NO_DNS:
            return f"http://{instance.name}:{APP_PORT}"
        networks = instance.attrs.get("NetworkSettings", {}).get("Networks", {})
        address = networks.get("bridge", {}).get("IPAddress", "")
        return f"http://{address}:{APP_PORT}"

    def _create(self, stage: str, app: str, image: str, current: Container | None) -> Container:
        runtime = self.runtime
        recorded = urlsplit(label(current, "address")).port if current is not None else None
        taken = {int(label(c, "port") or 0) for c in runtime.containers(everything=True)}
        port = recorded or runtime.free_port(taken)
        upstream = ["--upstream", self.upstream(current)] if current is not None else []

        def serve(host: str, inner_port: int) -> list[str]:
            listen = ("--listen", f"{host}:{inner_port}")
            return [*proxy_command("python", ROUTE, *listen), *upstream]

        labels = runtime.labels(stage, app, port, role=ROLE)
        return runtime.run_container(
            image, (f"oneclick-{stage}-{app}-address", ""), port, serve, labels
        )

    def _wait_answering(self, proxy: Container) -> None:
        url = label(proxy, "url")
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/healthz", timeout=2.0, trust_env=False)
                return
            except httpx.HTTPError:
                proxy.reload()
                if proxy.status in ("exited", "dead"):
                    break
                time.sleep(0.1)
        logs = bytes(proxy.logs(tail=20)).decode("utf-8", "replace")
        raise TransientError(
            f"the address {url} of {label(proxy, 'app')} on {label(proxy, 'stage')} did not "
            f"answer (its container {proxy.name} is {proxy.status}); its log:\n{logs}"
        )


def label(container: Container, name: str) -> str:
    return str(container.labels.get(f"dev.oneclick.{name}", ""))


def is_proxy(container: Container) -> bool:
    return label(container, "role") == ROLE
