"""The runtime base image: built here, reproducible, pushed, and able to serve a compiled app.

The base is built once per session with the packages installed in this environment (no
network); the pip path is checked on its own against a local wheelhouse. As root, the app
image (the example app on this base, pulled back with skopeo) is unpacked and run in a
``chroot``: its own Python serves ``/healthz`` on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from oneclick.cli.main import cli
from oneclick.compiler import compile_app
from oneclick.images import ImageSpec, RegistryImageBuilder, unpack_image
from oneclick.images.assemble import parse_env
from oneclick.images.packages import install_from_index
from oneclick.images.runtime_image import (
    RuntimeImageResult,
    RuntimeTarget,
    build_runtime_image,
)
from oneclick.registry import RegistryConfig
from tests.oneclick.compiler.compiler_support import compile_example_libraries, example_app
from tests.oneclick.images.registry_support import (
    SKOPEO,
    RunningRegistry,
    free_port,
    skopeo_inspect,
)
from tests.support import RUNTIME_PREFIX, SECRET

CHROOT = shutil.which("chroot")


def test_the_base_holds_python_and_the_runtime_packages_only(
    runtime_base: RuntimeImageResult,
) -> None:
    assert runtime_base.reference.endswith(f"/oneclick-runtime@{runtime_base.digest}")
    assert {"starlette", "uvicorn", "SQLAlchemy", "psycopg", "psycopg-binary"} <= set(
        runtime_base.packages
    )
    assert not {"prefect", "fastapi", "pydantic", "alembic", "httpx"} & set(runtime_base.packages)
    assert 10e6 < runtime_base.size < 60e6, runtime_base.size
    if SKOPEO:
        inspected = skopeo_inspect(runtime_base.reference)
        assert inspected["Digest"] == runtime_base.digest
        labels = inspected["Labels"]
        assert isinstance(labels, dict)
        assert (
            f"starlette=={runtime_base.packages['starlette']}"
            in (labels["dev.oneclick.runtime.packages"])
        )
        env = parse_env(inspected["Env"])  # type: ignore[arg-type]
        assert env["PYTHONPATH"] == "/usr/local/lib/oneclick/site-packages"
        assert env["PATH"].startswith("/usr/local/bin:")


def test_the_same_inputs_give_the_same_digest_without_any_cache(
    runtime_base: RuntimeImageResult, tmp_path: Path
) -> None:
    again = build_runtime_image(
        RuntimeTarget(layout=tmp_path / "layout"), cache=tmp_path / "cache", packages="installed"
    )
    assert again.digest == runtime_base.digest
    assert again.layers == runtime_base.layers


def test_the_command_pushes_the_base_and_prints_its_digest(
    registry: RunningRegistry, runtime_base: RuntimeImageResult
) -> None:
    reference = f"{registry.host}/cli/oneclick-runtime:python3.11"
    result = CliRunner().invoke(
        cli, ["runtime", "build", "--push", reference, "--insecure", "--packages", "installed"]
    )
    assert result.exit_code == 0, result.output
    pinned = f"{registry.host}/cli/oneclick-runtime@{runtime_base.digest}"
    assert f"runtime base: {pinned}" in result.output
    assert "MB compressed" in result.output
    if SKOPEO:
        assert skopeo_inspect(reference)["Digest"] == runtime_base.digest


def test_pip_installs_from_a_cached_wheelhouse_and_drops_scripts(tmp_path: Path) -> None:
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    write_wheel(wheelhouse, "tinyrt", "0.1.0")
    options = ("--no-index", "--find-links", str(wheelhouse))
    cache = tmp_path / "cache"

    versions = install_from_index(["tinyrt==0.1.0"], tmp_path / "one", cache, index_options=options)
    assert versions == {"tinyrt": "0.1.0"}
    assert (tmp_path / "one" / "tinyrt" / "__init__.py").is_file()
    assert not (tmp_path / "one" / "bin").exists()
    assert not list((tmp_path / "one").rglob("*.pyc"))

    shutil.rmtree(wheelhouse)  # the second install needs only the cache
    again = install_from_index(["tinyrt==0.1.0"], tmp_path / "two", cache, index_options=options)
    assert again == versions


def write_wheel(directory: Path, name: str, version: str) -> Path:
    """A minimal pure-Python wheel with a console script."""
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": "VALUE = 1\n\ndef main():\n    return 0\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        f"{info}/entry_points.txt": f"[console_scripts]\n{name} = {name}:main\n",
    }
    record = "".join(f"{path},,\n" for path in files) + f"{info}/RECORD,,\n"
    path = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
        archive.writestr(f"{info}/RECORD", record)
    return path


@pytest.fixture
def app_image(
    registry: RunningRegistry, runtime_base: RuntimeImageResult, tmp_path: Path
) -> Iterator[Path]:
    """The example app on the runtime base, pushed, pulled back by skopeo and unpacked."""
    if SKOPEO is None:
        pytest.skip("skopeo is not installed (scripts/test-deps installs it)")
    libraries = compile_example_libraries(tmp_path / "libs")
    build = compile_app(example_app(), libraries, tmp_path / "app")
    config = RegistryConfig(url=registry.host, insecure=True, prefix=RUNTIME_PREFIX)
    spec = ImageSpec(
        repository="chroot-expenses",  # a repository of its own: the base layers get mounted
        tag="1.0.0",
        app_build=build.path,
        library_builds=[(library.name, library.path) for library in libraries],
    )
    image = RegistryImageBuilder(config).build(spec)
    assert image.layers[: len(runtime_base.layers)] == runtime_base.layers
    assert image.mounted == len(runtime_base.layers)
    layout = tmp_path / "pulled"
    done = subprocess.run(
        [
            SKOPEO,
            "copy",
            "--src-tls-verify=false",
            "--preserve-digests",
            f"docker://{image.reference}",
            f"oci:{layout}:expenses",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    root = unpack_image(layout, image.digest, tmp_path / "root")
    yield root


@pytest.mark.skipif(CHROOT is None or os.geteuid() != 0, reason="chroot needs root")
def test_the_app_image_serves_from_its_own_python_in_a_chroot(app_image: Path) -> None:
    config = json.loads((app_image / ".oneclick-image").read_text())
    assert config["digest"].startswith("sha256:")
    image_env = {
        "PATH": "/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin",
        "PYTHONPATH": "/usr/local/lib/oneclick/site-packages",
        "LANG": "C.UTF-8",
    }
    check = subprocess.run(
        [
            CHROOT or "chroot",
            str(app_image),
            "python",
            "-c",
            "import starlette, uvicorn, sqlalchemy, psycopg; print(psycopg.pq.__impl__)",
        ],
        env=image_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == "binary"

    port = free_port()
    env = {
        **image_env,
        "ONECLICK_DATABASE_URL": "sqlite:////tmp/expenses.db",
        "ONECLICK_SETTING_ApprovalLimit": "500",
        "ONECLICK_SECRET_PaymentsApiKey": SECRET,
    }
    command = [
        CHROOT or "chroot",
        str(app_image),
        "python",
        "-m",
        "uvicorn",
        "--app-dir",
        "/app",
        "server.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    log = (app_image.parent / "app.log").open("w+b")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        answer = wait_for(f"http://127.0.0.1:{port}/healthz", process)
        assert answer.status_code == 200
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.seek(0)
        output = log.read()
        log.close()
    assert SECRET.encode() not in output


def wait_for(url: str, process: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the app in the chroot exited early"
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within 30 s")
