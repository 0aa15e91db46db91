"""A real OCI registry for the tests (Debian's ``docker-registry``), and a faulty TCP proxy.

``start_registry(workdir)`` writes a registry config of its own (storage under ``workdir``,
deletes enabled, ``127.0.0.1:<free port>``; htpasswd auth when ``users`` are given) and
starts ``docker-registry serve`` on it, waiting for ``/v2/`` to answer. ``FaultyProxy`` sits
in front of a registry on 127.0.0.1: each new connection first takes the next fault from its
list (``"503"``: answer 503 and close; ``"reset"``: close with a TCP reset), then, when the
list is used up (or never, with ``always``), forwards bytes both ways unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from oneclick.images.assemble import manifest_document
from oneclick.images.base import embedded_base
from oneclick.images.layers import write_layer
from oneclick.images.push import Blob, push_image
from oneclick.images.sources import LocalBlobs
from oneclick.images.spec import CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE
from oneclick.images.store import canonical_json
from oneclick.registry import BASE_REPOSITORY, RegistryClient, RegistryConfig, base_tag

REGISTRY = shutil.which("docker-registry")
HTPASSWD = shutil.which("htpasswd")
SKOPEO = shutil.which("skopeo")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningRegistry:
    host: str
    root: Path
    process: subprocess.Popen[bytes]
    users: dict[str, str] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return int(self.host.rpartition(":")[2])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_registry(
    workdir: Path, users: dict[str, str] | None = None, auth: dict[str, object] | None = None
) -> RunningRegistry:
    """Start ``docker-registry serve`` with a config of our own; see the module docstring."""
    assert REGISTRY, "docker-registry is not installed"
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(workdir / "storage")},
            "delete": {"enabled": True},
        },
        "http": {"addr": f"127.0.0.1:{port}", "secret": "oneclick-tests"},
    }
    if users:
        lines = []
        for name, password in users.items():
            done = subprocess.run(
                [HTPASSWD or "htpasswd", "-Bbn", name, password],
                capture_output=True,
                text=True,
                check=True,
            )
            lines.append(done.stdout.strip())
        (workdir / "htpasswd").write_text("\n".join(lines) + "\n")
        config["auth"] = {
            "htpasswd": {"realm": "oneclick-tests", "path": str(workdir / "htpasswd")}
        }
    if auth:
        config["auth"] = auth
    (workdir / "config.yml").write_text(json.dumps(config, indent=2))
    log = (workdir / "registry.log").open("wb")
    process = subprocess.Popen(
        [REGISTRY, "serve", str(workdir / "config.yml")], stdout=log, stderr=subprocess.STDOUT
    )
    running = RunningRegistry(f"127.0.0.1:{port}", workdir, process, dict(users or {}))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {(workdir / 'registry.log').read_text()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"http://{running.host}/v2/", timeout=1).status_code in (200, 401):
                return running
        time.sleep(0.05)
    running.stop()
    raise RuntimeError("docker-registry did not answer /v2/ within 20 s")


def skopeo_inspect(reference: str, creds: str | None = None) -> dict[str, object]:
    """``skopeo inspect`` of ``docker://reference`` over plain HTTP."""
    command = [SKOPEO or "skopeo", "inspect", "--tls-verify=false"]
    if creds:
        command += ["--creds", creds]
    done = subprocess.run(
        [*command, f"docker://{reference}"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"skopeo inspect {reference} failed:\n{done.stderr}"
    result = json.loads(done.stdout)
    assert isinstance(result, dict)
    return result


class FaultyProxy:
    """A TCP proxy on 127.0.0.1 that fails the first connections; see the module docstring."""

    def __init__(self, target_port: int, faults: list[str], always: str | None = None) -> None:
        self.target_port = target_port
        self.faults = list(faults)
        self.always = always
        self.connections = 0
        self.faults_served = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> FaultyProxy:
        self._accepting.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopped.set()
        self._accepting.join(timeout=5)
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            fault = self.faults.pop(0) if self.faults else self.always
            thread = threading.Thread(target=self._serve, args=(client, fault), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, client: socket.socket, fault: str | None) -> None:
        with client:
            if fault is not None:
                self.faults_served += 1
                _read_head(client)
                if fault == "503":
                    client.sendall(
                        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                        b"Connection: close\r\n\r\n"
                    )
                else:
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            with socket.create_connection(("127.0.0.1", self.target_port)) as upstream:
                back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
                back.start()
                _pump(client, upstream)
                back.join(timeout=30)


def _read_head(sock: socket.socket) -> None:
    sock.settimeout(5)
    data = b""
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = sock.recv(4096)
            if not chunk:
                return
            data += chunk


def _pump(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while chunk := source.recv(65536):
            target.sendall(chunk)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def running_registry(
    workdir: Path, users: dict[str, str] | None = None, auth: dict[str, object] | None = None
) -> Iterator[RunningRegistry]:
    registry = start_registry(workdir, users, auth)
    try:
        yield registry
    finally:
        registry.stop()


def push_tiny_base(config: RegistryConfig, workdir: Path, tag: str | None = None) -> str:
    """A small base image (the embedded base layer alone) pushed where ``config`` expects it."""
    workdir.mkdir(parents=True, exist_ok=True)
    base = embedded_base()
    layer = write_layer(base.entries(), workdir / "base.tar.gz")
    document = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {"Env": [f"{k}={v}" for k, v in sorted(base.env.items())]},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": base.created_by}],
    }
    config_bytes = canonical_json(document)
    config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    layer_descriptor = {"mediaType": LAYER_MEDIA_TYPE, "digest": layer.digest, "size": layer.size}
    manifest = canonical_json(
        manifest_document(config_digest, len(config_bytes), [layer_descriptor])
    )
    local = LocalBlobs(files={layer.digest: layer.path}, documents={config_digest: config_bytes})
    blobs = [
        Blob(
            {"mediaType": CONFIG_MEDIA_TYPE, "digest": config_digest, "size": len(config_bytes)},
            local,
        ),
        Blob(layer_descriptor, local),
    ]
    repository = config.repository(BASE_REPOSITORY)
    with RegistryClient(config) as client:
        pushed = push_image(client, repository, blobs, manifest, tags=[tag or base_tag()])
    return f"{config.host}/{repository}@{pushed.digest}"
