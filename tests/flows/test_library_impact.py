"""The impact check: a library version that removes a record a consumer stores refuses that
consumer's publish (the previous release keeps serving, the attempt is recorded failed with
the row count); a version that only adds records passes; a library publish is never
blocked, it reports its consumers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from flows.promote_app import promote_app
from flows.publish_app import publish_app
from flows.publish_library import publish_library
from oneclick.home import Home
from oneclick.releases import Catalog, Phase
from tests.flows.library_support import library_version, ranged_app
from tests.flows.rollout_support import deployments, ready
from tests.support import latest_artifact


def add_expenses(url: str, category: str, count: int) -> None:
    with httpx.Client(base_url=url, trust_env=False, timeout=10) as client:
        for number in range(count):
            body = {"Title": f"{category} {number}", "Category": category}
            response = client.post("/api/expense", json=body)
            assert response.status_code in (200, 201), response.text


def test_a_removed_record_the_stage_stores_blocks_the_consumer(
    published_libraries: Path, stage_block: Callable[..., str], tmp_path: Path
) -> None:
    stage = stage_block("impact", order=22)
    source = str(ranged_app(tmp_path, "app", "^1.2.0"))
    first = publish_app(source, stage)
    add_expenses(first.url, "Meals", 3)
    add_expenses(first.url, "Travel", 1)

    # only an added record: the consumer takes it
    publish_library(str(library_version(tmp_path, "1.2.1", add=("Software",))))
    added = publish_app(source, stage)
    assert added.version != first.version
    plan = latest_artifact(f"expenses-{stage}-schema-plan")
    assert "| finance-common | 1.2.0 | 1.2.1 | - | Category: Software |" in plan
    assert "No blockers" in plan

    # Meals removed: the library publish goes through and names the consumer it blocks
    removed = publish_library(str(library_version(tmp_path, "1.3.0", drop=("Meals",))))
    (row,) = [row for row in removed.consumers if row["stage"] == stage]
    assert row["library version"] == "1.2.1 → 1.3.0"
    assert row["outcome"].startswith("blocked") and "3 rows of expense.category" in row["blockers"]
    assert "3 rows of expense.category" in latest_artifact("library-finance-common-consumers")

    refused = publish_app(source, stage, return_state=True)
    assert refused.is_failed()
    message = str(refused.message)
    assert "finance-common 1.3.0 removes Category 'Meals': 3 rows of expense.category" in message
    assert "keep the record" in message and "migrate the data" in message
    latest = deployments(stage=stage)[0]
    assert latest.phase is Phase.FAILED and "3 rows of expense.category" in (latest.message or "")
    current = Catalog(Home.from_env().catalog_url).current("expenses", stage)
    assert current is not None and current.version == added.version
    assert ready(added.url)
    plan = latest_artifact(f"expenses-{stage}-schema-plan")
    assert (
        "**Blocked**" in plan
        and "| Category 'Meals' | expense.category (Expense.Category) | 3 |" in plan
    )


def test_a_promotion_that_brings_a_removed_record_is_refused_where_it_is_stored(
    published_libraries: Path, stage_block: Callable[..., str], tmp_path: Path
) -> None:
    source, target = stage_block("impact-src", order=23), stage_block("impact-dst", order=24)
    app = str(ranged_app(tmp_path, "app", "~1.2"))
    publish_app(app, source)
    kept = promote_app("expenses", source, target)
    add_expenses(kept.url, "Meals", 2)

    publish_library(str(library_version(tmp_path, "1.2.5", drop=("Meals",))))
    taken = publish_app(app, source)  # nothing stored on the source: it takes 1.2.5
    refused = promote_app("expenses", source, target, return_state=True)
    assert refused.is_failed()
    assert "2 rows of expense.category (Expense.Category) hold it" in str(refused.message)
    latest = deployments(stage=target)[0]
    assert latest.phase is Phase.FAILED and latest.version == taken.version
    current = Catalog(Home.from_env().catalog_url).current("expenses", target)
    assert current is not None and current.version == kept.version and ready(kept.url)
