"""A private Docker engine for the tests, and a base image with Python made from this host.

``docker_engine`` (session) starts Debian's ``dockerd`` with vfs storage, no iptables, no
bridge, on its own socket, data root, exec root and pid file under a fresh directory, so it
never meets another engine on the machine; it yields a ``DockerEngine`` (client, socket URL)
and, when the session ends, removes every container, stops the engine and deletes its
directory. Skipped, saying why, when ``dockerd`` is missing or the tests do not run as root.

``docker_base_image`` (session) is the image app images start ``FROM`` in these tests: nothing
can be pulled here, so it is made by ``docker import`` of a root filesystem holding the
interpreter running the tests (at its own path, with its ``ldd`` libraries), its standard
library (without tests, IDLE, tkinter) and the installed distributions the compiled app needs
(Starlette, uvicorn, SQLAlchemy and what they require), copied from this environment.

Test modules use both with ``from tests.docker_fixture import docker_base_image,
docker_engine``; the engine is started once per session however many modules import it.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from docker import DockerClient
from docker.errors import DockerException

from oneclick.images import ImageSpec
from oneclick.images.spec import APP_COMMAND, APP_PORT
from oneclick.runtimes.docker import LABEL
from tests.oneclick.compiler.compiler_support import (
    LIBRARY_CHAIN,
    build_root,
    create_database,
    example_app,
)
from tests.support import free_port

DOCKERD = shutil.which("dockerd")
BASE_IMAGE = "oneclick-test-base:python"
RUNTIME_DISTRIBUTIONS = ("starlette", "uvicorn", "SQLAlchemy")
STDLIB_SKIPPED = frozenset(
    {
        "test",
        "idlelib",
        "tkinter",
        "turtledemo",
        "ensurepip",
        "lib2to3",
        "pydoc_data",
        "site-packages",
        "__pycache__",
    }
)
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class DockerEngine:
    """A running private engine: its client, the URL of its socket (and of its TCP listener
    on 127.0.0.1), where it keeps its data."""

    client: DockerClient
    url: str
    root: Path
    process: subprocess.Popen[bytes]
    users: int = 0
    base_image: str | None = None
    cleanups: list[str] = field(default_factory=list)
    tcp_url: str = ""


_engine: DockerEngine | None = None


def start_engine() -> DockerEngine:
    root = Path(tempfile.mkdtemp(prefix="oneclick-docker-"))
    socket = root / "docker.sock"
    # also on 127.0.0.1 over TCP: containers on the host network reach it with no socket
    # shared with them (the work pool tests)
    tcp = f"tcp://127.0.0.1:{free_port()}"
    command = [
        str(DOCKERD),
        *("--storage-driver=vfs", "--iptables=false", "--ip-masq=false", "--bridge=none"),
        *("--host", f"unix://{socket}", "--host", tcp, "--data-root", str(root / "data")),
        *("--exec-root", str(root / "exec"), "--pidfile", str(root / "docker.pid")),
    ]
    log = (root / "dockerd.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    log.close()
    url = f"unix://{socket}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"dockerd exited with {process.returncode}:\n{(root / 'dockerd.log').read_text()}"
            )
        if socket.exists():
            client = DockerClient(base_url=url, timeout=120)
            try:
                client.ping()
                break
            except DockerException:
                client.close()
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"dockerd did not answer on {socket} within 60 s")
        time.sleep(0.1)
    return DockerEngine(client=client, url=url, root=root, process=process, tcp_url=tcp)


def stop_engine(engine: DockerEngine) -> None:
    client = engine.client
    try:
        for container in client.containers.list(all=True):
            container.remove(force=True)
    finally:
        client.close()
        engine.process.send_signal(signal.SIGTERM)
        try:
            engine.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            engine.process.kill()
            engine.process.wait()
        _unmount_under(engine.root)
        shutil.rmtree(engine.root, ignore_errors=True)


def _unmount_under(root: Path) -> None:
    """Unmount what the engine left mounted under ``root`` (its network namespace file)."""
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    for point in sorted((m for m in mounts if m.startswith(f"{root}/")), reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[DockerEngine]:
    """The session's private Docker engine (shared by every module that imports this)."""
    global _engine
    if DOCKERD is None:
        pytest.skip("dockerd is not installed (scripts/test-deps installs docker.io)")
    if os.geteuid() != 0:
        pytest.skip("dockerd needs root")
    if _engine is None:
        _engine = start_engine()
    engine = _engine
    engine.users += 1
    try:
        yield engine
    finally:
        engine.users -= 1
        if engine.users == 0:
            _engine = None
            stop_engine(engine)


@pytest.fixture(scope="session")
def docker_base_image(docker_engine: DockerEngine) -> str:
    """The name of a base image with Python and the app's runtime packages, in the engine."""
    if docker_engine.base_image is None:
        with tempfile.TemporaryDirectory(prefix="oneclick-rootfs-") as work:
            tarball = Path(work) / "rootfs.tar"
            write_python_rootfs(tarball)
            repository, tag = BASE_IMAGE.split(":")
            docker_engine.client.api.import_image_from_file(
                str(tarball),
                repository=repository,
                tag=tag,
                changes=[
                    f"ENV PATH={python_bin()}:{BASE_PATH}",
                    "ENV PYTHONUNBUFFERED=1",
                    "WORKDIR /app",
                    f"EXPOSE {APP_PORT}",
                    f"CMD {json.dumps(list(APP_COMMAND))}",
                ],
            )
        docker_engine.base_image = BASE_IMAGE
    return docker_engine.base_image


def python_bin() -> str:
    return str(Path(sys._base_executable).parent)


def write_python_rootfs(tarball: Path) -> None:
    """A root filesystem tarball with this interpreter, its stdlib and the app's packages."""
    executable = Path(sys._base_executable).resolve()
    stdlib = Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    site = stdlib / "site-packages"
    with tarfile.open(tarball, "w", dereference=True) as tar:
        _add_dir(tar, "tmp", 0o1777)
        _add_text(tar, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
        _add_text(tar, "etc/group", "root:x:0:\n")
        tar.add(executable, arcname=str(executable).lstrip("/"))
        for name in ("python", "python3"):
            _add_link(tar, f"usr/local/bin/{name}", str(executable))
        tar.add(stdlib, arcname=str(stdlib).lstrip("/"), filter=_stdlib_filter)
        libraries = {executable, *stdlib.joinpath("lib-dynload").glob("*.so")}
        for dist_file in _distribution_files():
            tar.add(dist_file, arcname=str(site / dist_file.relative_to(_venv_site())).lstrip("/"))
            if dist_file.suffix == ".so":
                libraries.add(dist_file)
        for library in sorted(_shared_libraries(libraries)):
            tar.add(library, arcname=library.lstrip("/"))


def _stdlib_filter(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    parts = set(Path(info.name).parts)
    if parts & STDLIB_SKIPPED or "config-3" in info.name or "/_test" in info.name:
        return None
    if info.name.endswith(".pyc") or "_tkinter" in info.name:
        return None
    return info


def _venv_site() -> Path:
    return Path(importlib.metadata.distribution("starlette").locate_file(""))


def _distribution_files() -> list[Path]:
    """Every installed file of the runtime distributions and what they require."""
    seen: set[str] = set()
    todo = list(RUNTIME_DISTRIBUTIONS)
    files: list[Path] = []
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        for entry in dist.files or []:
            path = Path(str(dist.locate_file(entry))).resolve()
            if path.is_file() and "__pycache__" not in path.parts and ".." not in entry.parts:
                files.append(path)
        for requirement in dist.requires or []:
            if "extra ==" not in requirement:
                todo.append(re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0])
    return files


def _shared_libraries(binaries: set[Path]) -> set[str]:
    found: set[str] = set()
    for binary in binaries:
        done = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False)
        for line in done.stdout.splitlines():
            match = re.search(r"(/\S+)", line.partition("=>")[2] or line)
            if match and Path(match.group(1)).exists():
                found.add(match.group(1))
    return found


def _add_dir(tar: tarfile.TarFile, name: str, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    tar.addfile(info)


def _add_text(tar: tarfile.TarFile, name: str, text: str) -> None:
    import io

    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _add_link(tar: tarfile.TarFile, name: str, target: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    tar.addfile(info)


def example_spec(root: Path, version: str = "1.0.0") -> ImageSpec:
    """The example app (expenses with its libraries) compiled under ``root``, as a spec."""
    build_root(root, example_app())
    libraries = [(name, root / "libs" / name) for name in LIBRARY_CHAIN]
    return ImageSpec(
        repository="expenses",
        tag=version,
        app_build=root / "app",
        library_builds=libraries,
        labels={"org.opencontainers.image.version": version},
    )


def example_database(directory: Path, spec: ImageSpec) -> str:
    """A SQLite database for the example app in ``directory``, its schema row written."""
    manifest = json.loads((spec.app_build / "manifest.json").read_text())
    url = f"sqlite:///{directory / 'expenses.db'}"
    create_database(url, example_app(), manifest["schema_fingerprint"])
    return url


def leftover(client: DockerClient, namespace: str) -> list[str]:
    """Names of the containers of ``namespace`` still in the engine."""
    found = client.containers.list(all=True, filters={"label": f"{LABEL}.namespace={namespace}"})
    return [str(container.name) for container in found]
