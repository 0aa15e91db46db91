"""Registry faults for real: a proxy that fails connections, and a registry that checks passwords.

The proxy (``FaultyProxy``) is a real TCP server in front of the real registry; nothing of
oneclick is replaced. Transient faults are retried and the push completes; refused
credentials fail at once with a message naming the registry and the user, with basic auth
(htpasswd) and with token auth (a token service of the test's own that the registry trusts).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from oneclick.errors import TransientError
from oneclick.images import ImageSpec, RegistryImageBuilder
from oneclick.registry import RegistryAuthError, RegistryClient, RegistryConfig, Retry
from tests.oneclick.images.registry_support import (
    REGISTRY,
    SKOPEO,
    FaultyProxy,
    RunningRegistry,
    push_tiny_base,
    running_registry,
    skopeo_inspect,
)
from tests.oneclick.images.token_service import TokenService

MakeSpec = Callable[..., ImageSpec]
FAST = Retry(attempts=5, first_delay=0.05, max_delay=0.2)


def through(proxy: FaultyProxy, config: RegistryConfig) -> RegistryConfig:
    return config.model_copy(update={"url": proxy.host})


@pytest.mark.parametrize("fault", ["503", "reset"])
def test_a_registry_failing_transiently_is_retried_and_the_push_completes(
    fault: str,
    registry: RunningRegistry,
    registry_config: RegistryConfig,
    tiny_base: str,
    make_spec: MakeSpec,
) -> None:
    with FaultyProxy(registry.port, [fault] * 3) as proxy:
        config = through(proxy, registry_config)
        with RegistryClient(config, retry=FAST) as client:
            result = RegistryImageBuilder(config, client=client).build(make_spec())
        assert proxy.faults_served == 3
    assert result.uploaded == 3
    with RegistryClient(registry_config) as client:
        stored = client.get_manifest(registry_config.repository("expenses"), result.digest)
    assert stored.digest == result.digest
    if SKOPEO:
        direct = f"{registry.host}/{registry_config.repository('expenses')}@{result.digest}"
        assert skopeo_inspect(direct)["Digest"] == result.digest


def test_faults_during_uploads_are_retried_too(
    registry: RunningRegistry, registry_config: RegistryConfig, tiny_base: str, make_spec: MakeSpec
) -> None:
    # Without kept-alive connections every request opens one, so the proxy fails requests:
    # the check of the API passes, then the requests of the build meet resets and 503s.
    with FaultyProxy(registry.port, []) as proxy:
        config = through(proxy, registry_config)
        with RegistryClient(config, retry=FAST, keepalive=False) as client:
            client.ping()
            proxy.faults = ["reset", "503", "reset"]
            result = RegistryImageBuilder(config, client=client).build(make_spec())
        assert proxy.faults_served == 3
    assert result.uploaded == 3


def test_a_registry_that_keeps_failing_ends_in_a_transient_error(
    registry: RunningRegistry, registry_config: RegistryConfig, make_spec: MakeSpec
) -> None:
    with FaultyProxy(registry.port, [], always="503") as proxy:
        config = through(proxy, registry_config)
        started = time.monotonic()
        with (
            RegistryClient(config, retry=FAST) as client,
            pytest.raises(TransientError, match=r"kept failing .* \(5 attempts; last: .*503"),
        ):
            RegistryImageBuilder(config, client=client).build(make_spec())
        assert proxy.faults_served == 5
    assert time.monotonic() - started < 5


def test_wrong_credentials_fail_fast_with_a_clear_message(
    auth_registry: RunningRegistry, make_spec: MakeSpec
) -> None:
    config = RegistryConfig(
        url=auth_registry.host,
        insecure=True,
        username="builder",
        password="not-the-password",
        prefix="auth",
    )
    started = time.monotonic()
    with pytest.raises(RegistryAuthError) as caught:
        RegistryImageBuilder(config).build(make_spec())
    assert time.monotonic() - started < 2
    message = str(caught.value)
    assert f"the registry at {auth_registry.host} refused the credentials of user 'builder'" in (
        message
    )
    assert "registry block" in message
    assert "not-the-password" not in message


def test_missing_credentials_say_so(auth_registry: RunningRegistry, make_spec: MakeSpec) -> None:
    config = RegistryConfig(url=auth_registry.host, insecure=True)
    with pytest.raises(RegistryAuthError, match=r"asks for basic credentials but none are"):
        RegistryImageBuilder(config).build(make_spec())


def test_basic_auth_pushes_and_skopeo_reads_with_the_same_credentials(
    auth_registry: RunningRegistry, make_spec: MakeSpec, tmp_path: Path
) -> None:
    password = auth_registry.users["builder"]
    config = RegistryConfig(
        url=f"http://{auth_registry.host}", username="builder", password=password, prefix="ok"
    )
    push_tiny_base(config, tmp_path / "base")
    result = RegistryImageBuilder(config).build(make_spec())
    again = RegistryImageBuilder(config).build(make_spec(where="again"))
    assert again.digest == result.digest and again.uploaded == 0
    if SKOPEO:
        inspected = skopeo_inspect(result.reference, creds=f"builder:{password}")
        assert inspected["Digest"] == result.digest


def test_token_auth_fetches_a_token_and_pushes(make_spec: MakeSpec, tmp_path: Path) -> None:
    if REGISTRY is None:
        pytest.skip("docker-registry is not installed (scripts/test-deps installs it)")
    users = {"builder": "t-pass-5c2"}
    with (
        TokenService(tmp_path / "tokens", users) as tokens,
        running_registry(tmp_path / "registry", auth=tokens.registry_auth()) as registry,
    ):
        config = RegistryConfig(
            url=registry.host,
            insecure=True,
            prefix="tok",
            username="builder",
            password="t-pass-5c2",
        )
        push_tiny_base(config, tmp_path / "base")
        result = RegistryImageBuilder(config).build(make_spec())
        assert result.mounted == 1 and result.uploaded == 3
        assert tokens.requests >= 2  # one token per scope, reused across requests

        wrong = config.model_copy(update={"password": SecretStr("nope")})
        with pytest.raises(RegistryAuthError, match="refused the credentials of user 'builder'"):
            RegistryImageBuilder(wrong).build(make_spec(where="wrong"))
