"""Library builds as OCI artifacts in a real registry: any worker resolves them, a published
version never changes, and nothing is shared on disk between the stores that use them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest

from oneclick.errors import LibraryError
from oneclick.libraries.registry_store import LIBRARY_ARTIFACT, RegistryLibraryStore
from oneclick.model import LibraryRef
from oneclick.registry import RegistryConfig
from tests.oneclick.images.registry_support import RunningRegistry
from tests.oneclick.libraries.test_library_store import write_build


def store(registry: RunningRegistry, cache: Path, prefix: str) -> RegistryLibraryStore:
    config = RegistryConfig(url=registry.host, insecure=True, prefix=prefix)
    return RegistryLibraryStore(config, cache)


def test_a_library_published_by_one_worker_is_resolved_by_another(
    registry: RunningRegistry, tmp_path: Path
) -> None:
    one = store(registry, tmp_path / "one", "team-a")
    other = store(registry, tmp_path / "other", "team-a")  # another machine: its own cache
    base = write_build(tmp_path / "src", "money", "1.0.0", statics={"Currency": ["EUR"]})
    top = write_build(tmp_path / "src", "finance", "2.0.0", libraries=[("money", "1.0.0")])
    assert one.publish(base).created and one.publish(top).created

    manifest = httpx.get(
        f"http://{registry.host}/v2/team-a/oneclick-libraries/finance/manifests/2.0.0",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    ).json()
    assert manifest["artifactType"] == LIBRARY_ARTIFACT
    assert manifest["annotations"]["org.opencontainers.image.version"] == "2.0.0"

    assert other.versions("finance") == ["2.0.0"]
    resolved = other.resolve([LibraryRef(name="finance", version="2.0.0")])
    assert [(b.name, b.version) for b in resolved] == [("finance", "2.0.0"), ("money", "1.0.0")]
    assert all(b.path.is_relative_to(tmp_path / "other") for b in resolved)
    assert other.static_entities("money", "1.0.0") == {"Currency": ["EUR"]}
    assert other.static_entities("money", "9.9.9") is None


def test_a_published_version_is_immutable_against_the_registry(
    registry: RunningRegistry, tmp_path: Path
) -> None:
    first = store(registry, tmp_path / "first", "team-b")
    second = store(registry, tmp_path / "second", "team-b")  # knows nothing locally
    assert first.publish(write_build(tmp_path / "src", "lib", "1.0.0")).created
    again = second.publish(write_build(tmp_path / "src", "lib", "1.0.0"))  # same content
    assert not again.created
    changed = write_build(tmp_path / "src", "lib", "1.0.0", content="x = 1\n")
    with pytest.raises(LibraryError, match=r"lib 1.0.0 is already published in .* immutable"):
        second.publish(changed)
    assert second.versions("lib") == ["1.0.0"]


def test_a_missing_or_changed_build_is_refused_with_what_to_do(
    registry: RunningRegistry, tmp_path: Path
) -> None:
    worker = store(registry, tmp_path / "cache", "team-c")
    with pytest.raises(LibraryError, match=r"lib 1.0.0 is not published in .*oneclick publish"):
        worker.get("lib", "1.0.0")
    worker.publish(write_build(tmp_path / "src", "lib", "1.0.0"))
    worker.publish(write_build(tmp_path / "src", "lib", "1.1.0"))
    with pytest.raises(LibraryError, match=r"published versions: 1.0.0, 1.1.0"):
        worker.get("lib", "2.0.0")

    fresh = store(registry, tmp_path / "fresh", "team-c")
    build = fresh.get("lib", "1.1.0")
    (build.path / "enums.py").write_text("tampered = True\n")
    with pytest.raises(LibraryError, match="was changed after it was published"):
        fresh.resolve([LibraryRef(name="lib", version="1.1.0")])
    shutil.rmtree(build.path)  # what the message says to do: it is fetched again
    later = store(registry, tmp_path / "fresh", "team-c")
    assert later.resolve([LibraryRef(name="lib", version="1.1.0")])[0].digest == build.digest
    assert json.loads((build.path / "manifest.json").read_text())["version"] == "1.1.0"
