"""An app naming a library range bundles the newest published match; the release records
the exact version and digest, and republishing with no newer library changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flows.publish_app import publish_app
from flows.publish_library import publish_library
from oneclick.home import Home
from oneclick.releases import Catalog
from tests.flows.library_support import library_version, ranged_app
from tests.flows.test_publish_and_promote import task_names


def test_a_range_bundles_the_newest_match_and_republishing_is_a_no_op(
    published_libraries: Path, stage_block: Callable[..., str], tmp_path: Path
) -> None:
    stage = stage_block("ranges", order=21)
    newer = publish_library(str(library_version(tmp_path, "1.3.0", add=("Software",))))
    publish_library(str(library_version(tmp_path, "2.0.0", drop=("Meals",))))
    first = publish_app(str(ranged_app(tmp_path, "app", "^1.2.0")), stage)
    release = Catalog(Home.from_env().catalog_url).release("expenses", first.version)
    bundled = {lib["name"]: lib for lib in release.libraries}
    assert bundled["finance-common"] == {
        "name": "finance-common",
        "version": "1.3.0",
        "digest": newer.digest,
    }
    assert release.model["libraries"][0]["version"] == "^1.2.0"

    again = publish_app(str(ranged_app(tmp_path, "same", "^1.2.0")), stage, return_state=True)
    result = again.result()
    assert result.unchanged and result.version == first.version
    assert "build image" not in task_names(str(again.state_details.flow_run_id))
    assert len(Catalog(Home.from_env().catalog_url).releases("expenses")) == 1
