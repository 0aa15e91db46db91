"""The Docker engine backend against a real engine and a real registry, with the example app."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from oneclick.images.docker_backend import DockerImageBuilder, context_entries, render_dockerfile
from oneclick.images.spec import APP_COMMAND, ImageSpec
from oneclick.registry import RegistryConfig
from oneclick.registry.errors import RegistryAuthError
from oneclick.runtimes import DeployRequest
from oneclick.runtimes.docker import DockerRuntime, DockerRuntimeConfig
from tests.docker_fixture import (
    DockerEngine,
    docker_base_image,
    docker_engine,
    example_database,
    example_spec,
    leftover,
)
from tests.oneclick.images.conftest import prefix_for
from tests.oneclick.images.registry_support import RunningRegistry, skopeo_inspect
from tests.support import SECRET

__all__ = ["docker_base_image", "docker_engine"]


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> ImageSpec:
    return example_spec(tmp_path_factory.mktemp("example"))


def test_dockerfile_has_metadata_first_and_the_app_last(spec: ImageSpec) -> None:
    odd = spec.model_copy(update={"env": {"GREETING": 'say "$HOME" \\ now'}})
    lines = render_dockerfile(odd, "base:1").splitlines()
    instructions = [line.split()[0] for line in lines if not line.startswith("#")]
    assert instructions == ["FROM", "ENV", "WORKDIR", "EXPOSE", "CMD", "COPY", "LABEL", "COPY"]
    ready = {"Cmd": list(APP_COMMAND), "WorkingDir": "/app", "ExposedPorts": {"8080/tcp": {}}}
    short = render_dockerfile(spec, "base:1", ready).splitlines()
    assert [line.split()[0] for line in short[1:]] == ["FROM", "COPY", "LABEL", "COPY"]
    assert lines[-3] == "COPY libs/ /libs/" and lines[-1] == "COPY app/ /app/"
    assert 'ENV "GREETING"="say \\"\\$HOME\\" \\\\ now"' in lines
    assert json.loads(lines[-4].removeprefix("CMD ")) == list(APP_COMMAND)
    paths = {entry.path for entry in context_entries(spec, "base:1")}
    assert {"Dockerfile", "app/server/main.py", "libs/finance-common/manifest.json"} <= paths
    assert not any("__pycache__" in path for path in paths)


def test_engine_build_keeps_the_image_in_the_engine_and_reuses_its_cache(
    docker_engine: DockerEngine, docker_base_image: str, spec: ImageSpec
) -> None:
    client = docker_engine.client
    builder = DockerImageBuilder(client, base=docker_base_image)
    started = time.monotonic()
    first = builder.build(spec)
    cold = time.monotonic() - started
    started = time.monotonic()
    second = builder.build(spec)
    warm = time.monotonic() - started
    try:
        assert first.reference == first.digest == second.digest
        assert warm < cold
        image = client.images.get(first.reference)
        config = image.attrs["Config"]
        assert config["Cmd"] == list(APP_COMMAND)
        assert config["WorkingDir"] == "/app"
        assert config["Labels"]["org.opencontainers.image.version"] == "1.0.0"
        assert image.attrs["RootFS"]["Layers"] == first.layers
        listing = client.containers.run(
            first.reference,
            ["python", "-c", "import os; print(sorted(os.listdir('/libs')), os.listdir('/app'))"],
            remove=True,
            network_mode="host",
        ).decode()
        assert "['finance-common', 'money-formats']" in listing
        assert "manifest.json" in listing and "server" in listing
    finally:
        client.images.remove(first.reference, force=True)


def test_pushed_image_is_pinned_by_digest_and_a_stage_pulls_and_runs_it(
    docker_engine: DockerEngine,
    docker_base_image: str,
    spec: ImageSpec,
    registry: RunningRegistry,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    client = docker_engine.client
    config = RegistryConfig(
        url=registry.host, insecure=True, prefix=prefix_for(request), builder="docker"
    )
    builder = DockerImageBuilder(client, base=docker_base_image, registry=config)
    result = builder.build(spec)
    assert result.reference == config.pinned("expenses", result.digest)
    assert result.digest != result.config_digest
    inspected = skopeo_inspect(result.reference)
    assert inspected["Digest"] == result.digest
    assert inspected["Labels"] == {"org.opencontainers.image.version": "1.0.0"}
    assert builder.build(spec).digest == result.digest

    for tag in client.images.get(result.config_digest).tags:
        client.images.remove(tag, force=True)
    namespace = f"pull-{int(time.time())}"
    runtime = DockerRuntime(
        DockerRuntimeConfig(namespace=namespace, volumes=(str(tmp_path),)), client=client
    )
    env = {
        "ONECLICK_DATABASE_URL": example_database(tmp_path, spec),
        "ONECLICK_SETTING_ApprovalLimit": "500",
        "ONECLICK_SECRET_PaymentsApiKey": SECRET,
    }
    try:
        deployed = runtime.deploy(
            DeployRequest(
                stage="test",
                app="expenses",
                release="1.0.0",
                image_root=tmp_path,
                image_digest=result.digest,
                image_reference=result.reference,
                env=env,
                ready_timeout=60,
            )
        )
        assert httpx.get(f"{deployed.url}/readyz", trust_env=False).status_code == 200
        assert client.containers.get(str(deployed.container)).image.id == result.config_digest
    finally:
        runtime.undeploy("test", "expenses")
        client.images.remove(result.config_digest, force=True)
    assert leftover(client, namespace) == []


def test_refused_credentials_fail_fast_with_a_clear_message(
    docker_engine: DockerEngine,
    docker_base_image: str,
    spec: ImageSpec,
    auth_registry: RunningRegistry,
) -> None:
    config = RegistryConfig(
        url=auth_registry.host,
        insecure=True,
        username="builder",
        password="wrong-password",  # type: ignore[arg-type]
        builder="docker",
    )
    builder = DockerImageBuilder(docker_engine.client, base=docker_base_image, registry=config)
    started = time.monotonic()
    with pytest.raises(RegistryAuthError, match="refused") as caught:
        builder.build(spec)
    assert time.monotonic() - started < 60
    assert "wrong-password" not in str(caught.value)
