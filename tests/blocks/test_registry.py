"""The registry block: saved to and loaded from the real server, turned into a RegistryConfig
that a real registry with htpasswd auth accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from blocks import Registry
from oneclick.registry import RegistryAuthError, RegistryClient, RegistryConfig
from tests.oneclick.images.registry_support import HTPASSWD, REGISTRY, running_registry


def test_a_saved_registry_loads_back_with_its_password_hidden(prefect_server: str) -> None:
    Registry(
        url="registry.example.com:5443",
        prefix="team/apps",
        username="ci",
        password=SecretStr("r-pass-91"),
        base_image="oneclick-runtime:python3.11",
    ).save("block-test-registry", overwrite=True)
    loaded = Registry.load("block-test-registry")
    assert isinstance(loaded, Registry)
    assert "r-pass-91" not in repr(loaded)
    config = loaded.to_config()
    assert "r-pass-91" not in repr(config)
    assert config.password is not None and config.password.get_secret_value() == "r-pass-91"
    assert config.api_url == "https://registry.example.com:5443"
    assert config.repository("expenses") == "team/apps/expenses"
    assert config.base_reference() == (
        "registry.example.com:5443/team/apps/oneclick-runtime:python3.11"
    )
    assert config.builder == "daemonless"


def test_defaults_name_a_local_plain_http_registry_and_the_default_base() -> None:
    config = Registry(insecure=True).to_config()
    assert config.api_url == "http://127.0.0.1:5000"
    assert config.username is None and config.password is None
    assert config.base_reference().startswith("127.0.0.1:5000/oneclick-runtime:python3.")
    assert config.pinned("expenses", "sha256:" + "a" * 64) == (
        "127.0.0.1:5000/expenses@sha256:" + "a" * 64
    )


def test_bad_urls_and_prefixes_are_refused_with_the_reason() -> None:
    with pytest.raises(ValidationError, match="is not host"):
        RegistryConfig(url="http://127.0.0.1:5000/v2/")
    with pytest.raises(ValidationError, match="repository prefix 'Team'"):
        RegistryConfig(url="127.0.0.1:5000", prefix="Team")


@pytest.mark.skipif(
    REGISTRY is None or HTPASSWD is None,
    reason="docker-registry or htpasswd is missing (scripts/test-deps installs them)",
)
def test_the_block_credentials_open_a_registry_with_basic_auth(tmp_path: Path) -> None:
    with running_registry(tmp_path / "registry", {"ci": "r-pass-91"}) as registry:
        good = Registry(url=registry.host, insecure=True, username="ci", password="r-pass-91")
        with RegistryClient(good.to_config()) as client:
            client.ping()
        bad = Registry(url=registry.host, insecure=True, username="ci", password="wrong")
        with RegistryClient(bad.to_config()) as client, pytest.raises(RegistryAuthError):
            client.ping()
