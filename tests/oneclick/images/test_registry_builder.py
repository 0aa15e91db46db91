"""RegistryImageBuilder against a real registry, checked by skopeo (an independent reader)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from oneclick.errors import BuildError
from oneclick.images import (
    ImageSpec,
    LayoutImageBuilder,
    RegistryImageBuilder,
    parse_reference,
    unpack_image,
)
from oneclick.images.pull import pull_to_layout
from oneclick.registry import RegistryClient, RegistryConfig
from tests.oneclick.images.registry_support import (
    SKOPEO,
    RunningRegistry,
    push_tiny_base,
    skopeo_inspect,
)
from tests.support import SECRET

MakeSpec = Callable[..., ImageSpec]
needs_skopeo = pytest.mark.skipif(
    SKOPEO is None, reason="skopeo is not installed (scripts/test-deps installs it)"
)


@needs_skopeo
def test_a_pushed_image_is_pinned_by_digest_and_readable_by_skopeo(
    registry_config: RegistryConfig, tiny_base: str, make_spec: MakeSpec
) -> None:
    result = RegistryImageBuilder(registry_config).build(make_spec(version="1.2.0"))

    repository = f"{registry_config.prefix}/expenses"
    assert result.repository == repository
    assert result.reference == f"{registry_config.host}/{repository}@{result.digest}"
    assert result.uploaded == 3  # config, libraries layer, app layer
    assert result.mounted == 1  # the base layer, from the base's repository
    inspected = skopeo_inspect(result.reference)
    assert inspected["Digest"] == result.digest
    assert inspected["Layers"] == result.layers
    assert len(result.layers) == 3
    by_tag = skopeo_inspect(f"{registry_config.host}/{repository}:1.2.0")
    assert by_tag["Digest"] == result.digest
    labels = inspected["Labels"]
    assert isinstance(labels, dict)
    assert labels["org.opencontainers.image.version"] == "1.2.0"
    env = inspected["Env"]
    assert isinstance(env, list)
    assert "ONECLICK_SETTING_CurrencySymbol=EUR" in env
    assert any(line.startswith("PATH=") for line in env)  # from the base


def test_the_same_spec_gives_the_same_digest_and_uploads_nothing_again(
    registry_config: RegistryConfig, tiny_base: str, make_spec: MakeSpec
) -> None:
    builder = RegistryImageBuilder(registry_config)
    first = builder.build(make_spec(where="first"))
    again = builder.build(make_spec(where="second"))  # equal files, other directory

    assert again.digest == first.digest
    assert again.uploaded == 0 and again.uploaded_bytes == 0 and again.mounted == 0

    changed = builder.build(make_spec(where="third", note="a changed app"))
    assert changed.digest != first.digest
    assert changed.uploaded == 2  # the app layer and the config; libraries are unchanged
    assert changed.layers[:2] == first.layers[:2]


def test_chunked_uploads_give_the_same_image(
    registry_config: RegistryConfig, tiny_base: str, make_spec: MakeSpec, tmp_path: Path
) -> None:
    monolithic = RegistryImageBuilder(registry_config).build(make_spec(where="mono"))
    other = registry_config.model_copy(update={"prefix": registry_config.prefix + "/chunked"})
    with RegistryClient(other, chunk_size=100) as client:
        chunked = RegistryImageBuilder(other, base=tiny_base, client=client).build(
            make_spec(where="chunked")
        )
    assert chunked.digest == monolithic.digest
    assert chunked.uploaded == 3 and chunked.mounted == 1
    with RegistryClient(other) as client:
        for digest in chunked.layers:
            assert client.has_blob(other.repository("expenses"), digest)


def test_a_base_in_an_oci_layout_is_uploaded_with_the_image(
    registry_config: RegistryConfig, make_spec: MakeSpec, tmp_path: Path
) -> None:
    layout = LayoutImageBuilder(tmp_path / "layout").build(make_spec(where="base"))
    result = RegistryImageBuilder(registry_config, base=layout.reference).build(make_spec())
    # The layout image's three layers are the base; two more are added on top, equal to the
    # base's own libraries and app layers (same inputs), so they are pushed once.
    assert result.layers[:3] == layout.layers
    assert result.layers[3:] == layout.layers[1:]
    assert result.uploaded == 4  # the 3 base layers and the config
    with RegistryClient(registry_config) as client:
        manifest = json.loads(client.get_manifest(result.repository, result.digest).data)
    assert [layer["digest"] for layer in manifest["layers"]] == result.layers


def test_no_secret_reaches_a_layer_or_the_config(
    auth_registry: RunningRegistry, make_spec: MakeSpec, tmp_path: Path
) -> None:
    password = auth_registry.users["builder"]
    config = RegistryConfig(
        url=auth_registry.host,
        insecure=True,
        prefix="secrets",
        username="builder",
        password=password,
    )
    push_tiny_base(config, tmp_path / "base")
    spec = make_spec()
    (spec.app_build / "server" / "settings.py").write_text("CURRENCY = 'EUR'\n")
    result = RegistryImageBuilder(config).build(spec)

    assert password not in repr(config) and password not in repr(result)
    with RegistryClient(config) as client:
        repository = config.repository("expenses")
        manifest = client.get_manifest(repository, result.digest)
        blobs = [manifest.data, client.get_blob(repository, result.config_digest)]
        for digest in result.layers:
            with (tmp_path / "blob").open("w+b") as handle:
                client.download_blob(repository, digest, handle)
                handle.seek(0)
                blobs.append(handle.read())
    for blob in blobs:
        plain = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
        for secret in (password, SECRET):
            assert secret.encode() not in plain


def test_an_unknown_base_says_how_to_make_one(
    registry_config: RegistryConfig, make_spec: MakeSpec
) -> None:
    with pytest.raises(BuildError, match=r"oneclick runtime build --push"):
        RegistryImageBuilder(registry_config).build(make_spec())


def test_a_pushed_image_pulls_back_into_a_layout_the_local_runtime_reads(
    registry_config: RegistryConfig, tiny_base: str, make_spec: MakeSpec, tmp_path: Path
) -> None:
    spec = make_spec()
    result = RegistryImageBuilder(registry_config).build(spec)
    with RegistryClient(registry_config) as client:
        pulled = pull_to_layout(client, result.reference, tmp_path / "layout")
    root, digest = parse_reference(pulled)
    assert digest == result.digest
    unpacked = unpack_image(root, digest, tmp_path / "root")
    assert (unpacked / "app/server/main.py").read_bytes() == (
        spec.app_build / "server/main.py"
    ).read_bytes()
    assert (unpacked / "libs/finance-common/enums.py").is_file()
    assert (unpacked / "etc/oneclick/base.json").is_file()  # the base's layer
