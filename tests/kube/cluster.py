"""A real Kubernetes control plane on 127.0.0.1 for the tests: etcd, kube-apiserver (TLS,
RBAC, service accounts), kube-controller-manager, kube-scheduler, and kwok, which plays the
kubelet: it makes nodes Ready and pods Running and Ready, except pods labelled
``oneclick.test/never-ready: "true"``, which stay unready (for failed rollouts).

``running_cluster(workdir)`` starts everything on free ports with its data, certificates,
kubeconfig and logs under ``workdir``, creates one node, and stops everything on exit.
``kube_binaries()`` is the directory ``scripts/kube-build`` filled, or None.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from tests.support import free_port

VERSION = "v1.36.3"
BINARIES = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "etcd",
    "kwok",
    "kubectl",
)
STAGES = Path(__file__).with_name("kwok-stages.yaml")
START_TIMEOUT = 30.0


def kube_binaries() -> Path | None:
    """The directory holding every control plane binary, or None when it was not built."""
    root = Path(os.environ.get("ONECLICK_KUBE_CACHE", Path.home() / ".cache/oneclick/kube"))
    bin_dir = root / VERSION / "bin"
    return bin_dir if all((bin_dir / name).is_file() for name in BINARIES) else None


def _write_pem(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, admin certificate, admin key): the admin certificate (O=system:masters)
    also serves the API server's TLS, and its key signs service account tokens."""
    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "oneclick-test-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
            x509.NameAttribute(NameOID.COMMON_NAME, "oneclick-admin"),
        ]
    )
    names: list[x509.GeneralName] = [
        x509.DNSName(name)
        for name in ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc")
    ]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ("127.0.0.1", "10.0.0.1")]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return (
        _write_pem(directory / "ca.crt", ca.public_bytes(pem)),
        _write_pem(directory / "admin.crt", cert.public_bytes(pem)),
        _write_pem(
            directory / "admin.key",
            key.private_bytes(
                pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
            ),
        ),
    )


def _advertise_address() -> str | None:
    """A non-loopback IPv4 address of this machine, if it has one."""
    with suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))  # no packet is sent: this only picks a route
        address = str(probe.getsockname()[0])
        if not address.startswith("127."):
            return address
    return None


@dataclass
class KubeCluster:
    """A running control plane: where it answers and how to reach it."""

    workdir: Path
    bin_dir: Path
    server: str = ""
    kubeconfig: Path = Path()
    ca: Path = Path()
    cert: Path = Path()
    key: Path = Path()
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def log_dir(self) -> Path:
        return self.workdir / "logs"

    def api_client(self) -> k8s.ApiClient:
        return k8s_config.new_client_from_config(config_file=str(self.kubeconfig))  # type: ignore[no-untyped-call,no-any-return]

    def tls(self) -> ssl.SSLContext:
        """A TLS context that trusts the cluster's CA and presents the admin certificate."""
        context = ssl.create_default_context(cafile=str(self.ca))
        context.load_cert_chain(str(self.cert), str(self.key))
        return context

    def start(self, name: str, *args: str) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{name}.log").open("wb") as log:
            self.processes[name] = subprocess.Popen(
                [str(self.bin_dir / name), *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,
            )

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")

    def wait(self, what: str, ready: object) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last = "never asked"
        while True:
            self.check_alive()
            try:
                if ready():  # type: ignore[operator]
                    return
                last = "not ready yet"
            except Exception as exc:
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} was not ready within {START_TIMEOUT:.0f}s ({last})")
            time.sleep(0.2)

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            process = self.processes[name]
            if process.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _kubeconfig(cluster: KubeCluster) -> Path:
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "test",
                "cluster": {"server": cluster.server, "certificate-authority": str(cluster.ca)},
            }
        ],
        "users": [
            {
                "name": "admin",
                "user": {"client-certificate": str(cluster.cert), "client-key": str(cluster.key)},
            }
        ],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "admin"}}],
        "current-context": "test",
    }
    path = cluster.workdir / "kubeconfig"
    path.write_text(yaml.safe_dump(document))
    path.chmod(0o600)
    return path


@contextmanager
def running_cluster(workdir: Path) -> Iterator[KubeCluster]:
    bin_dir = kube_binaries()
    if bin_dir is None:
        raise RuntimeError("the control plane is not built: run scripts/kube-build")
    cluster = KubeCluster(workdir=workdir, bin_dir=bin_dir)
    try:
        _start(cluster)
        yield cluster
    finally:
        cluster.stop()


def _start(cluster: KubeCluster) -> None:
    work = cluster.workdir
    cluster.ca, cluster.cert, cluster.key = _certificates(work)
    etcd_port, peer_port, api_port = free_port(), free_port(), free_port()
    etcd_url = f"http://127.0.0.1:{etcd_port}"
    cluster.start(
        "etcd",
        "--data-dir", str(work / "etcd"),
        "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
        "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
        "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
        "--initial-cluster", f"default=http://127.0.0.1:{peer_port}",
        "--unsafe-no-fsync", "--log-level", "warn",
    )  # fmt: skip
    cluster.wait("etcd", lambda: httpx.get(f"{etcd_url}/health", timeout=1).status_code == 200)

    cluster.server = f"https://127.0.0.1:{api_port}"
    address = _advertise_address()
    placement = ["--advertise-address", address] if address else []
    placement += ["--endpoint-reconciler-type", "none"] if address is None else []
    cluster.start(
        "kube-apiserver",
        "--etcd-servers", etcd_url,
        "--bind-address", "127.0.0.1", "--secure-port", str(api_port), *placement,
        "--tls-cert-file", str(cluster.cert), "--tls-private-key-file", str(cluster.key),
        "--client-ca-file", str(cluster.ca),
        "--authorization-mode", "Node,RBAC",
        "--service-account-issuer", "https://kubernetes.default.svc",
        "--service-account-key-file", str(cluster.cert),
        "--service-account-signing-key-file", str(cluster.key),
        "--service-cluster-ip-range", "10.0.0.0/24",
        "--enable-priority-and-fairness=false",
    )  # fmt: skip
    cluster.kubeconfig = _kubeconfig(cluster)
    tls = cluster.tls()
    cluster.wait(
        "kube-apiserver",
        lambda: httpx.get(f"{cluster.server}/readyz", verify=tls, timeout=2).status_code == 200,
    )
    kubeconfig = str(cluster.kubeconfig)
    cluster.start(
        "kube-controller-manager",
        "--kubeconfig", kubeconfig, "--authentication-kubeconfig", kubeconfig,
        "--authorization-kubeconfig", kubeconfig,
        "--leader-elect=false", "--bind-address", "127.0.0.1", "--secure-port", str(free_port()),
        "--service-account-private-key-file", str(cluster.key),
        "--root-ca-file", str(cluster.ca),
        "--use-service-account-credentials=false",
        "--controllers", "*,-nodeipam,-nodelifecycle,-route,-service,-cloud-node-lifecycle",
    )  # fmt: skip
    cluster.start(
        "kube-scheduler",
        "--kubeconfig", kubeconfig, "--authentication-kubeconfig", kubeconfig,
        "--authorization-kubeconfig", kubeconfig,
        "--leader-elect=false", "--bind-address", "127.0.0.1", "--secure-port", str(free_port()),
    )  # fmt: skip
    cluster.start(
        "kwok",
        "--kubeconfig", kubeconfig, "--manage-all-nodes=true", "--config", str(STAGES),
        "--server-address", f"127.0.0.1:{free_port()}",
    )  # fmt: skip
    core = k8s.CoreV1Api(cluster.api_client())
    core.create_node(
        {
            "metadata": {
                "name": "kwok-node-0",
                "labels": {"type": "kwok", "kubernetes.io/hostname": "kwok-node-0"},
                "annotations": {"kwok.x-k8s.io/node": "fake"},
            },
            "spec": {},
        }
    )

    def node_ready() -> bool:
        node = core.read_node("kwok-node-0")
        return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])

    cluster.wait("the kwok node", node_ready)
    # the not-ready taint the API server puts on a new node is normally lifted by the node
    # lifecycle controller, which is off here (kwok nodes have no kubelet to watch)
    core.patch_node("kwok-node-0", [{"op": "remove", "path": "/spec/taints"}])

    def default_service_account() -> bool:
        return bool(core.list_namespaced_service_account("default").items)

    cluster.wait("the default service account", default_service_account)
