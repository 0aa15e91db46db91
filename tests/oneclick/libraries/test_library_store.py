"""The library store: publish once, never change, resolve what an app bundles."""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from oneclick.compiler.digest import content_digest
from oneclick.errors import LibraryError
from oneclick.libraries import LibraryBuild, LibraryPublishResult, LibraryStore
from oneclick.model import LibraryRef

_COUNTER = itertools.count()


def write_build(
    root: Path,
    name: str,
    version: str,
    *,
    statics: dict[str, list[str]] | None = None,
    libraries: Sequence[tuple[str, str]] = (),
    content: str = "",
) -> Path:
    """A hand-written library build directory whose manifest matches its files."""
    build = root / f"{name}-{version}-{next(_COUNTER)}"
    build.mkdir(parents=True)
    (build / "enums.py").write_text(f"# {name} {version}\n{content}", encoding="utf-8")
    (build / "static").mkdir()
    (build / "static" / "enums.js").write_text("export {};\n", encoding="utf-8")
    statics = {"Kind": ["A", "B"]} if statics is None else statics
    manifest = {
        "kind": "library",
        "name": name,
        "version": version,
        "title": name,
        "digest": content_digest(build),
        "static_entities": {
            entity: [{"key": key, "label": key.lower()} for key in keys]
            for entity, keys in statics.items()
        },
        "libraries": [{"name": n, "version": v} for n, v in libraries],
        "styles": False,
    }
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (build / "manifest.json").write_text(text, encoding="utf-8")
    return build


@pytest.fixture
def store(tmp_path: Path) -> LibraryStore:
    return LibraryStore(tmp_path / "store")


def refs(*pairs: tuple[str, str]) -> list[LibraryRef]:
    return [LibraryRef(name=name, version=version) for name, version in pairs]


def test_publish_stores_the_build_under_name_and_version(
    tmp_path: Path, store: LibraryStore
) -> None:
    build_dir = write_build(tmp_path / "b", "finance-common", "1.2.0", statics={"Category": ["X"]})
    result = store.publish(build_dir)
    assert result.created is True
    target = store.root / "finance-common" / "1.2.0"
    assert result.build.path == target
    assert result.build.digest == content_digest(target) == content_digest(build_dir)
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == [
        "enums.py",
        "manifest.json",
        "static",
        "static/enums.js",
    ]
    assert store.get("finance-common", "1.2.0") == result.build
    assert store.static_entities("finance-common", "1.2.0") == {"Category": ["X"]}
    assert store.static_entities("finance-common", "9.9.9") is None
    assert [p.name for p in target.parent.iterdir()] == ["1.2.0"]  # no staging left behind


def test_republishing_the_same_build_is_a_no_op(tmp_path: Path, store: LibraryStore) -> None:
    first = store.publish(write_build(tmp_path / "a", "lib", "1.0.0"))
    again = store.publish(write_build(tmp_path / "b", "lib", "1.0.0"))
    assert (first.created, again.created) == (True, False)
    assert again.build == first.build


def test_a_published_version_never_changes(tmp_path: Path, store: LibraryStore) -> None:
    first = store.publish(write_build(tmp_path / "a", "finance-common", "1.2.0"))
    changed = write_build(tmp_path / "b", "finance-common", "1.2.0", content="x = 1\n")
    with pytest.raises(LibraryError) as caught:
        store.publish(changed)
    old, new = first.build.digest, content_digest(changed)
    assert str(caught.value) == (
        f"finance-common 1.2.0 is already published with digest {old[:19]}.. and this build "
        f"is {new[:19]}..; a published version is immutable: raise the version in library.yaml"
    )
    assert store.get("finance-common", "1.2.0").digest == old


def test_a_tampered_build_is_refused(tmp_path: Path, store: LibraryStore) -> None:
    build_dir = write_build(tmp_path / "a", "lib", "1.0.0")
    (build_dir / "enums.py").write_text("import os\n", encoding="utf-8")
    with pytest.raises(
        LibraryError, match=re.escape("does not match its manifest: manifest.json says")
    ):
        store.publish(build_dir)
    assert store.versions("lib") == []


def test_a_directory_without_manifest_is_not_a_build(tmp_path: Path, store: LibraryStore) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        LibraryError, match=re.escape("is not a library build: it has no manifest.json")
    ):
        store.publish(tmp_path / "empty")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "app"}, "describes app, not a library build"),
        ({"name": "../escape"}, "'name' must be a library name, found '../escape'"),
        ({"version": "latest"}, "'version' must be a semantic version, found 'latest'"),
        ({"digest": "md5:00"}, "'digest' must be 'sha256:<hex>'"),
    ],
)
def test_a_bad_manifest_is_refused(
    tmp_path: Path, store: LibraryStore, change: dict[str, str], message: str
) -> None:
    build_dir = write_build(tmp_path / "a", "lib", "1.0.0")
    manifest = json.loads((build_dir / "manifest.json").read_text(encoding="utf-8"))
    (build_dir / "manifest.json").write_text(json.dumps(manifest | change), encoding="utf-8")
    with pytest.raises(LibraryError, match=re.escape(message)):
        store.publish(build_dir)


def test_concurrent_publishers_of_the_same_build(tmp_path: Path, store: LibraryStore) -> None:
    builds = [write_build(tmp_path / f"b{i}", "lib", "1.0.0") for i in range(8)]
    results: list[LibraryPublishResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(builds))

    def publish(build_dir: Path) -> None:
        barrier.wait()
        try:
            results.append(store.publish(build_dir))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(b,)) for b in builds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(r.created for r in results) == [False] * 7 + [True]
    assert {r.build.digest for r in results} == {content_digest(builds[0])}
    assert [p.name for p in (store.root / "lib").iterdir()] == ["1.0.0"]


def test_concurrent_publishers_of_different_builds(tmp_path: Path, store: LibraryStore) -> None:
    builds = [
        write_build(tmp_path / f"b{i}", "lib", "1.0.0", content=f"n = {i}\n") for i in range(6)
    ]
    created: list[LibraryBuild] = []
    refused: list[LibraryError] = []
    barrier = threading.Barrier(len(builds))

    def publish(build_dir: Path) -> None:
        barrier.wait()
        try:
            created.append(store.publish(build_dir).build)
        except LibraryError as exc:
            refused.append(exc)

    threads = [threading.Thread(target=publish, args=(b,)) for b in builds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(created) == 1 and len(refused) == 5
    assert all("a published version is immutable" in str(exc) for exc in refused)
    assert store.get("lib", "1.0.0").digest == created[0].digest
    assert [p.name for p in (store.root / "lib").iterdir()] == ["1.0.0"]


def test_versions_sort_semantically_and_get_lists_them(tmp_path: Path, store: LibraryStore) -> None:
    for version in ["1.10.0", "1.2.0", "1.2.0-rc.1", "0.9.0"]:
        store.publish(write_build(tmp_path / "b", "lib", version))
    (store.root / "lib" / ".1.3.0.abc.partial").mkdir()  # a publisher that crashed midway
    assert store.versions("lib") == ["0.9.0", "1.2.0-rc.1", "1.2.0", "1.10.0"]
    assert store.versions("other") == []
    with pytest.raises(LibraryError) as caught:
        store.get("lib", "1.3.0")
    assert str(caught.value) == (
        "library lib has no published version 1.3.0; "
        "published versions: 0.9.0, 1.2.0-rc.1, 1.2.0, 1.10.0"
    )
    with pytest.raises(LibraryError, match="library other is not published"):
        store.get("other", "1.0.0")
    listed = [(b.name, b.version) for b in store.list()]
    assert listed == [("lib", v) for v in ["0.9.0", "1.2.0-rc.1", "1.2.0", "1.10.0"]]


def test_resolve_gives_the_transitive_closure_by_name(tmp_path: Path, store: LibraryStore) -> None:
    builds = tmp_path / "b"
    store.publish(write_build(builds, "money-formats", "0.3.0"))
    store.publish(write_build(builds, "units", "2.0.0"))
    finance = write_build(
        builds,
        "finance-common",
        "1.2.0",
        libraries=[("money-formats", "0.3.0"), ("units", "2.0.0")],
    )
    store.publish(finance)
    store.publish(write_build(builds, "audit", "1.0.0", libraries=[("money-formats", "0.3.0")]))
    resolved = store.resolve(refs(("finance-common", "1.2.0"), ("audit", "1.0.0")))
    assert [(b.name, b.version) for b in resolved] == [
        ("audit", "1.0.0"),
        ("finance-common", "1.2.0"),
        ("money-formats", "0.3.0"),
        ("units", "2.0.0"),
    ]
    assert store.resolve([]) == []


def test_resolve_refuses_two_versions_of_one_library(tmp_path: Path, store: LibraryStore) -> None:
    builds = tmp_path / "b"
    store.publish(write_build(builds, "money-formats", "0.3.0"))
    store.publish(write_build(builds, "money-formats", "0.4.0"))
    store.publish(
        write_build(builds, "finance-common", "1.2.0", libraries=[("money-formats", "0.3.0")])
    )
    with pytest.raises(LibraryError) as caught:
        store.resolve(refs(("finance-common", "1.2.0"), ("money-formats", "0.4.0")))
    assert str(caught.value) == (
        "library money-formats is needed in two versions: 0.3.0 "
        "(finance-common 1.2.0 → money-formats 0.3.0) and 0.4.0 (money-formats 0.4.0); "
        "bundle one version: make the libraries agree on it"
    )


def test_resolve_refuses_a_cycle(tmp_path: Path, store: LibraryStore) -> None:
    builds = tmp_path / "b"
    store.publish(write_build(builds, "alpha", "1.0.0", libraries=[("beta", "1.0.0")]))
    store.publish(write_build(builds, "beta", "1.0.0", libraries=[("gamma", "1.0.0")]))
    store.publish(write_build(builds, "gamma", "1.0.0", libraries=[("alpha", "1.0.0")]))
    with pytest.raises(LibraryError) as caught:
        store.resolve(refs(("alpha", "1.0.0")))
    assert str(caught.value) == (
        "library dependency cycle: alpha 1.0.0 → beta 1.0.0 → gamma 1.0.0 → alpha 1.0.0; "
        "a library cannot depend on itself, directly or through others"
    )


def test_resolve_names_who_needs_a_missing_library(tmp_path: Path, store: LibraryStore) -> None:
    store.publish(
        write_build(tmp_path / "b", "finance-common", "1.2.0", libraries=[("fx", "1.0.0")])
    )
    with pytest.raises(LibraryError) as caught:
        store.resolve(refs(("finance-common", "1.2.0")))
    assert str(caught.value).startswith("library fx is not published")
    assert str(caught.value).endswith("(needed by finance-common 1.2.0)")
    with pytest.raises(LibraryError, match="library nothing is not published"):
        store.resolve(refs(("nothing", "1.0.0")))


def test_resolve_refuses_a_build_changed_in_the_store(tmp_path: Path, store: LibraryStore) -> None:
    store.publish(write_build(tmp_path, "money", "1.0.0"))
    stored = store.publish(write_build(tmp_path, "fin", "1.0.0", libraries=[("money", "1.0.0")]))
    assert [b.name for b in store.resolve([LibraryRef(name="fin", version="1.0.0")])] == [
        "fin",
        "money",
    ]
    tampered = store.root / "money" / "1.0.0" / "enums.py"
    tampered.write_text(tampered.read_text(encoding="utf-8") + "EVIL = 1\n", encoding="utf-8")
    with pytest.raises(LibraryError) as refused:
        store.resolve([LibraryRef(name="fin", version="1.0.0")])
    message = str(refused.value)
    assert "library money 1.0.0" in message and "was changed after it was published" in message
    assert "publish money 1.0.0 again" in message
    assert stored.build.name == "fin"
