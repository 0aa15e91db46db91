"""unpack_image: the image's files come back, verified; hostile layers are refused."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from oneclick.errors import BuildError
from oneclick.images import ImageSpec, LayoutImageBuilder, unpack_image
from oneclick.images.store import LayoutStore, canonical_json

MakeSpec = Callable[..., ImageSpec]


def files_under(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def crafted_image(root: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> str:
    """Write an image whose only layer holds exactly ``members``; returns its digest."""
    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    layer = gzip.compress(plain.getvalue(), mtime=0)
    store = LayoutStore(root)
    store.create()
    layer_digest = store.put_bytes(layer)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {
            "type": "layers",
            "diff_ids": ["sha256:" + hashlib.sha256(plain.getvalue()).hexdigest()],
        },
    }
    config_bytes = canonical_json(config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": store.put_bytes(config_bytes),
            "size": len(config_bytes),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": layer_digest,
                "size": len(layer),
            }
        ],
    }
    return store.put_bytes(canonical_json(manifest))


def file_entry(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def link_entry(name: str, target: str, *, hard: bool = False) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    info.linkname = target
    return info, None


def test_unpack_gives_back_the_build(tmp_path: Path, make_spec: MakeSpec) -> None:
    spec = make_spec()
    root = tmp_path / "layout"
    result = LayoutImageBuilder(root).build(spec)
    dest = unpack_image(root, result.digest, tmp_path / "unpacked")

    assert dest == tmp_path / "unpacked"
    assert files_under(dest / "app") == files_under(spec.app_build)
    for name, build in spec.library_builds:
        assert files_under(dest / "libs" / name) == files_under(build)
    assert json.loads((dest / "etc/oneclick/base.json").read_text())["kind"] == "oneclick-base"
    assert (dest / "app/server/run.sh").stat().st_mode & 0o777 == 0o755
    assert (dest / "app/server/main.py").stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


def test_unpacked_image_is_reused(tmp_path: Path, make_spec: MakeSpec) -> None:
    root = tmp_path / "layout"
    result = LayoutImageBuilder(root).build(make_spec())
    dest = unpack_image(root, result.digest, tmp_path / "unpacked")
    sentinel = dest / "app" / "sentinel"
    sentinel.write_text("kept")
    assert unpack_image(root, result.digest, dest) == dest
    assert sentinel.read_text() == "kept"


def test_dest_holding_something_else_is_refused(tmp_path: Path, make_spec: MakeSpec) -> None:
    root = tmp_path / "layout"
    builder = LayoutImageBuilder(root)
    first = builder.build(make_spec("one"))
    second = builder.build(make_spec("two", note="other"))
    dest = unpack_image(root, first.digest, tmp_path / "unpacked")
    with pytest.raises(BuildError, match="to be free or to hold image"):
        unpack_image(root, second.digest, dest)


def test_concurrent_unpacks_agree(tmp_path: Path, make_spec: MakeSpec) -> None:
    root = tmp_path / "layout"
    result = LayoutImageBuilder(root).build(make_spec())
    dest = tmp_path / "unpacked"
    errors: list[BaseException] = []

    def unpack() -> None:
        try:
            unpack_image(root, result.digest, dest)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=unpack) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert (dest / "app/server/main.py").is_file()
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([file_entry("../escaped")], "climbs out"),
        ([file_entry("app/../../escaped")], "climbs out"),
        ([file_entry("/tmp/escaped")], "absolute"),
        ([link_entry("app/link", "/etc/passwd")], "absolute target"),
        ([link_entry("app/link", "../../escaped")], "leads outside"),
        ([link_entry("app", ".."), file_entry("app/escaped")], "leads outside"),
        ([link_entry("app", "."), link_entry("app/up", "../escaped")], "leads outside"),
        ([file_entry("app"), link_entry("hard", "../escaped", hard=True)], "climbs out"),
    ],
    ids=[
        "dotdot", "nested-dotdot", "absolute", "absolute-link", "link-out",
        "write-through-link", "link-through-link", "hardlink-out",
    ],
)  # fmt: skip
def test_hostile_layers_are_refused(
    tmp_path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], message: str
) -> None:
    root = tmp_path / "layout"
    digest = crafted_image(root, members)
    outside = tmp_path / "escaped"
    with pytest.raises(BuildError, match=message):
        unpack_image(root, digest, tmp_path / "area" / "unpacked")
    assert not outside.exists() and not outside.is_symlink()
    assert not (tmp_path / "area" / "unpacked").exists()
    assert list((tmp_path / "area").iterdir()) == [], "the temporary directory is removed"


def test_special_files_are_refused(tmp_path: Path) -> None:
    fifo = tarfile.TarInfo("app/fifo")
    fifo.type = tarfile.FIFOTYPE
    digest = crafted_image(tmp_path / "layout", [(fifo, None)])
    with pytest.raises(BuildError, match="special files"):
        unpack_image(tmp_path / "layout", digest, tmp_path / "unpacked")


def test_links_inside_the_image_are_kept(tmp_path: Path) -> None:
    members = [
        file_entry("app/data.txt", b"data"),
        link_entry("app/alias.txt", "data.txt"),
        link_entry("app/copy.txt", "app/data.txt", hard=True),
    ]
    digest = crafted_image(tmp_path / "layout", members)
    dest = unpack_image(tmp_path / "layout", digest, tmp_path / "unpacked")
    assert (dest / "app/alias.txt").read_text() == "data"
    assert (dest / "app/copy.txt").read_text() == "data"


def test_whiteouts_remove_lower_files(tmp_path: Path) -> None:
    lower = crafted_image(tmp_path / "lower", [file_entry("app/old.txt"), file_entry("app/k")])
    upper = crafted_image(tmp_path / "upper", [file_entry("app/.wh.old.txt", b"")])
    # Stitch the two layers into one image.
    store = LayoutStore(tmp_path / "upper")
    manifests = [
        LayoutStore(tmp_path / p).read_json(d) for p, d in (("lower", lower), ("upper", upper))
    ]
    configs = [
        LayoutStore(tmp_path / p).read_json(m["config"]["digest"])
        for p, m in zip(("lower", "upper"), manifests, strict=True)
    ]
    lower_layer = manifests[0]["layers"][0]
    store.put_bytes(LayoutStore(tmp_path / "lower").read_blob(lower_layer["digest"]))
    config = {**configs[1], "rootfs": {"type": "layers", "diff_ids": [
        configs[0]["rootfs"]["diff_ids"][0], configs[1]["rootfs"]["diff_ids"][0]]}}  # fmt: skip
    config_bytes = canonical_json(config)
    manifest = {
        **manifests[1],
        "config": {**manifests[1]["config"], "digest": store.put_bytes(config_bytes),
                   "size": len(config_bytes)},
        "layers": [lower_layer, manifests[1]["layers"][0]],
    }  # fmt: skip
    digest = store.put_bytes(canonical_json(manifest))
    dest = unpack_image(tmp_path / "upper", digest, tmp_path / "unpacked")
    assert not (dest / "app/old.txt").exists()
    assert (dest / "app/k").exists()
    assert not (dest / "app/.wh.old.txt").exists()


def test_damaged_layer_is_refused_and_nothing_is_left(tmp_path: Path, make_spec: MakeSpec) -> None:
    root = tmp_path / "layout"
    result = LayoutImageBuilder(root).build(make_spec())
    layer = root / "blobs" / "sha256" / result.layers[2].removeprefix("sha256:")
    data = bytearray(layer.read_bytes())
    data[-12] ^= 0xFF  # inside the deflate stream's end or the gzip trailer
    layer.write_bytes(bytes(data))
    with pytest.raises(BuildError):
        unpack_image(root, result.digest, tmp_path / "area" / "unpacked")
    assert list((tmp_path / "area").iterdir()) == []


def test_replaced_layer_with_wrong_digest_is_refused(tmp_path: Path, make_spec: MakeSpec) -> None:
    root = tmp_path / "layout"
    result = LayoutImageBuilder(root).build(make_spec())
    other = LayoutImageBuilder(tmp_path / "other").build(make_spec("two", note="other"))
    target = root / "blobs" / "sha256" / result.layers[2].removeprefix("sha256:")
    source = tmp_path / "other" / "blobs" / "sha256" / other.layers[2].removeprefix("sha256:")
    target.write_bytes(source.read_bytes())  # a valid layer, but not the one named
    with pytest.raises(BuildError, match="should hash to"):
        unpack_image(root, result.digest, tmp_path / "area" / "unpacked")
    assert list((tmp_path / "area").iterdir()) == []
