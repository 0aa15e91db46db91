"""Independent readers (skopeo, umoci) accept what LayoutImageBuilder writes."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from oneclick.images import ImageSpec, LayoutImageBuilder

MakeSpec = Callable[..., ImageSpec]


def run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stderr}"
    return done.stdout


@pytest.mark.skipif(
    shutil.which("skopeo") is None,
    reason="skopeo is not installed (apt-get install -y skopeo); it cross-checks the layout",
)
def test_skopeo_reads_the_layout(tmp_path: Path, make_spec: MakeSpec) -> None:
    root = tmp_path / "layout"
    result = LayoutImageBuilder(root).build(make_spec(version="1.2.0+build.7"))
    reference = f"oci:{root}:expenses:1.2.0+build.7"

    inspected = json.loads(run("skopeo", "inspect", reference))
    assert inspected["Digest"] == result.digest
    assert inspected["Layers"] == result.layers
    assert inspected["Architecture"] == "amd64"
    assert inspected["Os"] == "linux"
    assert inspected["Labels"] == {"org.opencontainers.image.version": "1.2.0+build.7"}

    # A copy reads and verifies every blob; the copied manifest is byte-identical.
    run("skopeo", "copy", "--preserve-digests", reference, f"dir:{tmp_path / 'copy'}")
    copied = (tmp_path / "copy" / "manifest.json").read_bytes()
    original = root / "blobs" / "sha256" / result.digest.removeprefix("sha256:")
    assert copied == original.read_bytes()


@pytest.mark.skipif(
    shutil.which("umoci") is None,
    reason="umoci is not installed (apt-get install -y umoci); it cross-checks the layout",
)
def test_umoci_unpacks_the_layout(tmp_path: Path, make_spec: MakeSpec) -> None:
    spec = make_spec()
    root = tmp_path / "layout"
    LayoutImageBuilder(root).build(spec)
    bundle = tmp_path / "bundle"
    run("umoci", "unpack", "--rootless", "--image", f"{root}:expenses:1.0.0", str(bundle))

    rootfs = bundle / "rootfs"
    assert (rootfs / "app/server/main.py").read_bytes() == (
        spec.app_build / "server/main.py"
    ).read_bytes()
    assert (rootfs / "libs/finance-common/enums.py").is_file()
    assert (rootfs / "etc/oneclick/base.json").is_file()
    runtime_config = json.loads((bundle / "config.json").read_text())
    assert runtime_config["process"]["cwd"] == "/app"
    assert runtime_config["process"]["args"][:3] == ["python", "-m", "uvicorn"]
