"""update-consumers: a library version published from a git source that asks for it
publishes again, to the first stage, the consumer whose range admits it (from the source
recorded with its release); a consumer pinned to another version is listed, untouched."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from blocks import GitSource
from flows.publish_app import publish_app
from flows.publish_library import publish_library
from oneclick.home import Home
from oneclick.releases import Catalog
from tests.flows.library_support import library_version, ranged_app
from tests.support import SECRET, latest_artifact

EXPENSES = {"ApprovalLimit": "100"}
ARTIFACT = "update-consumers-finance-common"


@pytest.fixture
def library_source() -> Iterator[str]:
    """A Git Source block of finance-common that asks for its consumers to be updated."""
    fields = {"repository": "team/finance-common", "kind": "library", "secret": SECRET}
    GitSource(**fields, update_consumers=True).save("finance-common-lib", overwrite=True)
    yield "finance-common-lib"
    GitSource.delete("finance-common-lib")


def test_a_library_push_updates_the_consumers_its_range_admits(
    published_libraries: Path,
    stage_block: Callable[..., str],
    library_source: str,
    tmp_path: Path,
) -> None:
    settings = {"expenses": EXPENSES, "payroll": EXPENSES}
    secrets = {app: {"PaymentsApiKey": SECRET} for app in settings}
    first = stage_block("first", order=0, settings=settings, secrets=secrets)
    ranged = ranged_app(tmp_path, "expenses", "^1.2.0")
    publish_app(str(ranged), first)
    pinned = publish_app(str(ranged_app(tmp_path, "payroll", "1.2.0", app="payroll")), first)

    library = publish_library(
        str(library_version(tmp_path, "1.3.0", add=("Software",))), git_source=library_source
    )
    assert library.version == "1.3.0"

    catalog = Catalog(Home.from_env().catalog_url)
    current = catalog.current("expenses", first)
    assert current is not None
    release = catalog.release("expenses", current.version)
    assert {"name": "finance-common", "version": "1.3.0", "digest": library.digest} in (
        release.libraries
    )
    assert release.source_path == str(ranged.resolve())
    assert (current.started_by or "") == "update-consumers finance-common 1.3.0"
    payroll = catalog.current("payroll", first)
    assert payroll is not None and payroll.version == pinned.version

    rows = {row["app"]: row for row in json.loads(latest_artifact(ARTIFACT))}
    assert rows["expenses"]["library version"] == "1.2.0 → 1.3.0"
    assert rows["expenses"]["outcome"] == f"published: {current.version}"
    assert rows["payroll"]["outcome"] == "pinned: 1.2.0 excludes 1.3.0"
