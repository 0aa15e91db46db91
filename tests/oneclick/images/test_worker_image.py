"""The worker image: built daemonlessly on the runtime base, reproducible, pushed without
re-uploading anything, and runnable by a real Docker engine (oneclick, Prefect, the flows).

The image is pushed where a registry with prefix ``RUNTIME_PREFIX`` keeps its runtime base
(the session's ``runtime_base``); the private engine of ``tests.docker_fixture`` pulls it by
digest from the test registry on 127.0.0.1 and runs it on the host network, with no volumes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from oneclick.cli.main import cli
from oneclick.errors import BuildError
from oneclick.images.runtime_image import RuntimeImageResult
from oneclick.images.worker_image import WorkerImageResult, WorkerTarget, build_worker_image
from oneclick.images.worker_layers import WORKER_COMMAND
from oneclick.registry import RegistryConfig
from tests.docker_fixture import DockerEngine, docker_engine  # noqa: F401  (fixture)
from tests.oneclick.images.registry_support import RunningRegistry
from tests.support import RUNTIME_PREFIX

IMPORTS = (
    "import prefect, flows.publish_app, flows.promote_app, oneclick; print(prefect.__version__)"
)


@pytest.mark.slow
def test_the_worker_image_is_reproducible_and_a_rebuild_uploads_nothing(
    worker_image: WorkerImageResult,
    runtime_base: RuntimeImageResult,
    registry: RunningRegistry,
    tmp_path: Path,
) -> None:
    repository = f"{registry.host}/{RUNTIME_PREFIX}/oneclick-worker"
    assert worker_image.reference == f"{repository}@{worker_image.digest}"
    assert worker_image.tag == worker_image.oneclick
    assert worker_image.base.endswith(f"/oneclick-runtime@{runtime_base.digest}")
    assert worker_image.layers[: len(runtime_base.layers)] == runtime_base.layers
    assert len(worker_image.layers) == len(runtime_base.layers) + 2
    assert worker_image.mounted == len(runtime_base.layers)  # base layers are never re-sent
    assert worker_image.prefect == "3.8.8"
    assert {"prefect", "fastapi", "kubernetes", "docker", "alembic"} <= set(worker_image.packages)
    assert not {"pytest", "ruff", "mypy", "hypothesis"} & set(worker_image.packages)

    config = RegistryConfig(url=registry.host, insecure=True, prefix=RUNTIME_PREFIX)
    again = build_worker_image(WorkerTarget(registry=config), cache=tmp_path / "fresh-cache")
    assert again.digest == worker_image.digest
    assert again.layers == worker_image.layers
    assert (again.uploaded, again.uploaded_bytes, again.mounted) == (0, 0, 0)


@pytest.mark.slow
def test_the_command_pushes_and_prints_the_pinned_reference(
    worker_image: WorkerImageResult, registry: RunningRegistry
) -> None:
    reference = f"{registry.host}/{RUNTIME_PREFIX}/oneclick-worker:cli"
    result = CliRunner().invoke(cli, ["worker", "build", "--push", reference, "--insecure"])
    assert result.exit_code == 0, result.output
    pinned = f"{registry.host}/{RUNTIME_PREFIX}/oneclick-worker@{worker_image.digest}"
    assert f"worker image: {pinned}" in result.output
    assert "prefect 3.8.8" in result.output
    assert "0 blob(s) uploaded (0.0 MB)" in result.output


@pytest.mark.slow
def test_the_worker_image_runs_oneclick_prefect_and_the_flows_on_docker(
    worker_image: WorkerImageResult,
    docker_engine: DockerEngine,  # noqa: F811
) -> None:
    repository, _, digest = worker_image.reference.partition("@")
    client = docker_engine.client
    image = client.images.pull(repository, tag=digest)
    settings = image.attrs["Config"]
    assert settings["Cmd"] == list(WORKER_COMMAND)
    assert not settings.get("Entrypoint")
    assert settings["WorkingDir"] == "/opt/oneclick"
    env = dict(line.split("=", 1) for line in settings["Env"])
    assert env["PYTHONPATH"].startswith("/opt/oneclick:/usr/local/lib/oneclick/worker-packages:")
    assert (env["ONECLICK_SOURCE_DIR"], env["ONECLICK_HOME"]) == ("/opt/oneclick", "/tmp/oneclick")

    assert run(docker_engine, worker_image.reference, ["python3", "-c", IMPORTS]) == "3.8.8"
    assert "worker" in run(docker_engine, worker_image.reference, ["oneclick", "--help"])
    assert "3.8.8" in run(docker_engine, worker_image.reference, ["prefect", "version"])


def run(engine: DockerEngine, image: str, command: list[str]) -> str:
    """Run ``command`` in a container of ``image`` on the host network; its output."""
    container = engine.client.containers.run(
        image, command, network_mode="host", detach=True, stdout=True, stderr=True
    )
    try:
        status = container.wait(timeout=120)
        output = container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)
    assert status["StatusCode"] == 0, f"{command} exited {status['StatusCode']}:\n{output}"
    return output.strip()


def test_a_registry_without_the_runtime_base_is_a_clear_error(
    registry: RunningRegistry, tmp_path: Path
) -> None:
    config = RegistryConfig(url=registry.host, insecure=True, prefix="no-runtime-base")
    expected = (
        r"expected the runtime base image at \S+/no-runtime-base/oneclick-runtime:python\S+, "
        r"found none; build it first with `oneclick runtime build --push"
    )
    with pytest.raises(BuildError, match=expected):
        build_worker_image(WorkerTarget(registry=config), cache=tmp_path / "cache")


def test_a_layout_without_the_runtime_base_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="oneclick runtime build --layout"):
        build_worker_image(WorkerTarget(layout=tmp_path / "layout"), cache=tmp_path / "cache")
    assert not (tmp_path / "layout").exists()
