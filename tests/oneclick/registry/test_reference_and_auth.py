"""Image references and authentication challenges, parsed as registries and tools write them."""

from __future__ import annotations

import pytest

from oneclick.registry import RegistryConfig, RegistryError, parse_image_reference
from oneclick.registry.auth import parse_challenge

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "host", "repository", "tag", "digest"),
    [
        ("127.0.0.1:5000/expenses:1.0.0", "127.0.0.1:5000", "expenses", "1.0.0", None),
        (
            f"reg.example.com/team/apps/expenses@{DIGEST}",
            "reg.example.com",
            "team/apps/expenses",
            None,
            DIGEST,
        ),
        (f"localhost/a/b:v1@{DIGEST}", "localhost", "a/b", "v1", DIGEST),
        ("127.0.0.1:5000/oneclick-runtime", "127.0.0.1:5000", "oneclick-runtime", None, None),
    ],
)
def test_references_split_into_their_parts(
    text: str, host: str, repository: str, tag: str | None, digest: str | None
) -> None:
    parsed = parse_image_reference(text)
    assert (parsed.host, parsed.repository, parsed.tag, parsed.digest) == (
        host,
        repository,
        tag,
        digest,
    )
    assert str(parsed) == text


def test_a_reference_without_a_host_needs_a_default_and_never_guesses_one() -> None:
    with pytest.raises(RegistryError, match="names no registry host"):
        parse_image_reference("library/python:3.11")
    parsed = parse_image_reference("team/expenses:2", default_host="127.0.0.1:5000")
    assert parsed.pinned(DIGEST) == f"127.0.0.1:5000/team/expenses@{DIGEST}"


@pytest.mark.parametrize(
    "text", ["127.0.0.1:5000/Expenses:1", "127.0.0.1:5000/e:bad tag", "127.0.0.1:5000/e@sha256:1"]
)
def test_malformed_references_are_refused(text: str) -> None:
    with pytest.raises(RegistryError):
        parse_image_reference(text)


def test_base_references_resolve_against_the_registry() -> None:
    config = RegistryConfig(url="http://127.0.0.1:5000", prefix="team")
    assert config.scheme == "http" and config.host == "127.0.0.1:5000"
    assert config.base_reference().startswith("127.0.0.1:5000/team/oneclick-runtime:python3.")
    relative = config.model_copy(update={"base_image": "my-base:1"})
    assert relative.base_reference() == "127.0.0.1:5000/team/my-base:1"
    other = config.model_copy(update={"base_image": f"other.example:443/base@{DIGEST}"})
    assert other.base_reference() == f"other.example:443/base@{DIGEST}"
    layout = config.model_copy(update={"base_image": f"oci-layout:/images@{DIGEST}"})
    assert layout.base_reference() == f"oci-layout:/images@{DIGEST}"


def test_challenges_are_read_as_registries_write_them() -> None:
    basic = parse_challenge('Basic realm="oneclick-tests"')
    assert basic is not None and basic.scheme == "basic"
    assert basic.params == {"realm": "oneclick-tests"}
    bearer = parse_challenge(
        'Bearer realm="https://auth.example/token",service="registry.example",'
        'scope="repository:team/app:pull,push"'
    )
    assert bearer is not None and bearer.scheme == "bearer"
    assert bearer.params["scope"] == "repository:team/app:pull,push"
    assert bearer.params["service"] == "registry.example"
    assert parse_challenge("") is None and parse_challenge(None) is None
