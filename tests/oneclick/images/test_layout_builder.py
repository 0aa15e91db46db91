"""LayoutImageBuilder: reproducible images in a valid OCI image layout."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from oneclick.errors import BuildError
from oneclick.images import (
    ImageBuilder,
    ImageResult,
    ImageSpec,
    LayoutImageBuilder,
    image_config,
    open_image,
    parse_reference,
    resolve_tag,
)

MakeSpec = Callable[..., ImageSpec]
REF_NAME = "org.opencontainers.image.ref.name"


def blob(root: Path, digest: str) -> bytes:
    return (root / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()


def blob_json(root: Path, digest: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(blob(root, digest))
    return data


def layer_members(root: Path, digest: str) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob(root, digest)))) as tar:
        return tar.getmembers()


def index_refs(root: Path) -> dict[str, str]:
    index = json.loads((root / "index.json").read_text())
    return {m["annotations"][REF_NAME]: m["digest"] for m in index["manifests"]}


def test_builder_meets_the_interface(tmp_path: Path) -> None:
    builder: ImageBuilder = LayoutImageBuilder(tmp_path / "layout")
    assert callable(builder.build)


def test_same_spec_gives_same_digest_from_any_copy(tmp_path: Path, make_spec: MakeSpec) -> None:
    first_spec = make_spec("one")
    second_spec = make_spec("two")
    # Different timestamps and permission bits (other than executable) must not matter.
    for path in (tmp_path / "two").rglob("*"):
        os.utime(path, (1_000_000, 1_000_000))
        if path.is_file() and not os.access(path, os.X_OK):
            path.chmod(0o600)
    first = LayoutImageBuilder(tmp_path / "layout-a").build(first_spec)
    again = LayoutImageBuilder(tmp_path / "layout-a").build(first_spec)
    second = LayoutImageBuilder(tmp_path / "layout-b").build(second_spec)

    assert first.digest == again.digest == second.digest
    assert first.layers == second.layers
    assert first.size == second.size
    for digest in [first.digest, first.config_digest, *first.layers]:
        assert blob(tmp_path / "layout-a", digest) == blob(tmp_path / "layout-b", digest)


def test_different_content_gives_different_digest(tmp_path: Path, make_spec: MakeSpec) -> None:
    builder = LayoutImageBuilder(tmp_path / "layout")
    plain = builder.build(make_spec("one"))
    noted = builder.build(make_spec("two", note="changed"))
    assert plain.digest != noted.digest
    assert plain.layers[:2] == noted.layers[:2], "base and libraries layers are shared"
    assert plain.layers[2] != noted.layers[2]


def test_layout_is_valid_oci(tmp_path: Path, make_spec: MakeSpec) -> None:
    root = tmp_path / "layout"
    result = LayoutImageBuilder(root).build(make_spec())

    assert json.loads((root / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((root / "index.json").read_text())
    assert index["schemaVersion"] == 2
    [entry] = index["manifests"]
    assert entry["annotations"] == {REF_NAME: "expenses:1.0.0"}
    assert entry["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    manifest_bytes = blob(root, result.digest)
    assert (
        entry["digest"] == result.digest == "sha256:" + hashlib.sha256(manifest_bytes).hexdigest()
    )
    assert entry["size"] == len(manifest_bytes)

    manifest = json.loads(manifest_bytes)
    assert manifest["schemaVersion"] == 2
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    assert [layer["digest"] for layer in manifest["layers"]] == result.layers
    config_bytes = blob(root, manifest["config"]["digest"])
    assert manifest["config"]["size"] == len(config_bytes)

    config = json.loads(config_bytes)
    assert config["architecture"] == "amd64"
    assert config["os"] == "linux"
    assert config["created"] == "1970-01-01T00:00:00Z"
    assert config["config"]["WorkingDir"] == "/app"
    assert config["config"]["Cmd"] == [
        "python", "-m", "uvicorn", "--app-dir", "/app", "server.main:app",
        "--host", "0.0.0.0", "--port", "8080",
    ]  # fmt: skip
    assert "ONECLICK_SETTING_CurrencySymbol=EUR" in config["config"]["Env"]
    assert config["config"]["Labels"] == {"org.opencontainers.image.version": "1.0.0"}
    assert len(config["history"]) == 3

    diff_ids = []
    total = len(manifest_bytes) + len(config_bytes)
    for layer in manifest["layers"]:
        assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
        data = blob(root, layer["digest"])
        assert layer["size"] == len(data)
        assert layer["digest"] == "sha256:" + hashlib.sha256(data).hexdigest()
        diff_ids.append("sha256:" + hashlib.sha256(gzip.decompress(data)).hexdigest())
        total += len(data)
    assert config["rootfs"] == {"type": "layers", "diff_ids": diff_ids}
    assert result.size == total


def test_layers_are_deterministic_tars(tmp_path: Path, make_spec: MakeSpec) -> None:
    root = tmp_path / "layout"
    result = LayoutImageBuilder(root).build(make_spec())
    for digest in result.layers:
        header = blob(root, digest)[:10]
        assert header[:3] == b"\x1f\x8b\x08"
        assert header[3] & 0x08 == 0, "no file name in the gzip header"
        assert header[4:8] == b"\0\0\0\0", "gzip mtime is 0"
        members = layer_members(root, digest)
        names = [m.name for m in members]
        assert names == sorted(names, key=lambda n: n.split("/"))
        for member in members:
            assert (member.mtime, member.uid, member.gid) == (0, 0, 0)
            assert (member.uname, member.gname) == ("", "")
            assert member.isdir() or member.isfile()
            assert member.mode in (0o644, 0o755)
            if member.isdir():
                assert member.mode == 0o755

    base, libs, app = ({m.name: m for m in layer_members(root, digest)} for digest in result.layers)
    assert "etc/oneclick/base.json" in base
    assert set(libs) >= {"libs", "libs/finance-common/enums.py", "libs/money-formats/enums.py"}
    assert app["app/server/run.sh"].mode == 0o755
    assert app["app/server/main.py"].mode == 0o644
    assert all(name == "app" or name.startswith("app/") for name in app)


def test_base_layer_names_the_runtime(tmp_path: Path, make_spec: MakeSpec) -> None:
    root = tmp_path / "layout"
    result = LayoutImageBuilder(root).build(make_spec())
    data = gzip.decompress(blob(root, result.layers[0]))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.extractfile("etc/oneclick/base.json")
        assert member is not None
        base = json.loads(member.read())
    assert base["python"].count(".") == 1
    assert set(base["packages"]) == {"starlette", "uvicorn", "SQLAlchemy"}


def test_retagging_moves_the_tag(tmp_path: Path, make_spec: MakeSpec) -> None:
    root = tmp_path / "layout"
    builder = LayoutImageBuilder(root)
    first = builder.build(make_spec("one"))
    other = builder.build(make_spec("other", version="0.9.0"))
    moved = builder.build(make_spec("two", note="rebuilt"))
    assert moved.digest != first.digest
    assert index_refs(root) == {"expenses:1.0.0": moved.digest, "expenses:0.9.0": other.digest}
    assert resolve_tag(root, "expenses", "1.0.0") == moved.digest
    assert (root / "blobs" / "sha256" / first.digest.removeprefix("sha256:")).exists()


def test_reading_back(tmp_path: Path, make_spec: MakeSpec) -> None:
    root = tmp_path / "layout"
    result = LayoutImageBuilder(root).build(make_spec())
    assert result.reference == f"oci-layout:{root.absolute()}@{result.digest}"
    assert parse_reference(result.reference) == (root.absolute(), result.digest)
    by_reference = open_image(result.reference)
    by_pair = open_image((root, result.digest))
    assert by_reference == by_pair
    assert [layer["digest"] for layer in by_pair.layers] == result.layers
    assert image_config(root, result.digest) == by_pair.config
    with pytest.raises(BuildError, match="expected an image tagged"):
        resolve_tag(root, "expenses", "9.9.9")
    with pytest.raises(BuildError, match="expected an image reference"):
        open_image(f"docker:{root}@{result.digest}")


def test_damaged_blob_is_refused(tmp_path: Path, make_spec: MakeSpec) -> None:
    root = tmp_path / "layout"
    result = LayoutImageBuilder(root).build(make_spec())
    path = root / "blobs" / "sha256" / result.config_digest.removeprefix("sha256:")
    path.write_bytes(path.read_bytes().replace(b"amd64", b"arm64"))
    with pytest.raises(BuildError, match="should hash to"):
        open_image((root, result.digest))


def test_concurrent_builds_into_one_layout(tmp_path: Path, make_spec: MakeSpec) -> None:
    specs = [make_spec(f"in-{n}", version=f"1.{n}.0") for n in range(4)]
    specs += [make_spec("same-a", version="2.0.0"), make_spec("same-b", version="2.0.0")]
    root = tmp_path / "layout"
    results: dict[int, ImageResult] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(specs))

    def build(n: int, spec: ImageSpec) -> None:
        try:
            barrier.wait()
            results[n] = LayoutImageBuilder(root).build(spec)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=build, args=item) for item in enumerate(specs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results[4].digest == results[5].digest
    refs = index_refs(root)
    assert refs == {f"expenses:{spec.tag}": results[n].digest for n, spec in enumerate(specs)}
    for result in results.values():
        open_image(result.reference)
    leftovers = [p.name for p in root.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers == []


def test_missing_app_build_is_a_build_error(tmp_path: Path, make_spec: MakeSpec) -> None:
    spec = make_spec()
    shutil.rmtree(spec.app_build / "server")
    with pytest.raises(BuildError, match=r"server/main\.py"):
        LayoutImageBuilder(tmp_path / "layout").build(spec)


def test_links_in_a_build_are_refused(tmp_path: Path, make_spec: MakeSpec) -> None:
    spec = make_spec()
    (spec.app_build / "client" / "link.js").symlink_to("/etc/passwd")
    with pytest.raises(BuildError, match="symbolic link"):
        LayoutImageBuilder(tmp_path / "layout").build(spec)


def test_bytecode_caches_are_left_out(tmp_path: Path, make_spec: MakeSpec) -> None:
    clean = LayoutImageBuilder(tmp_path / "layout").build(make_spec("one"))
    spec = make_spec("two")
    (spec.app_build / "server" / "__pycache__").mkdir()
    (spec.app_build / "server" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")
    assert LayoutImageBuilder(tmp_path / "layout").build(spec).digest == clean.digest


def test_secrets_cannot_go_into_an_image(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="secret"):
        ImageSpec(
            repository="expenses",
            tag="1.0.0",
            app_build=tmp_path,
            env={"ONECLICK_SECRET_PaymentsApiKey": "x"},
        )


def test_library_names_must_be_directory_names(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="library name"):
        ImageSpec(
            repository="expenses", tag="1.0.0", app_build=tmp_path,
            library_builds=[("../escape", tmp_path)],
        )  # fmt: skip
    with pytest.raises(ValidationError, match="more than once"):
        ImageSpec(
            repository="expenses", tag="1.0.0", app_build=tmp_path,
            library_builds=[("a", tmp_path), ("a", tmp_path)],
        )  # fmt: skip
