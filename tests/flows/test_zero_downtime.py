"""Zero downtime on the local runtime: a load loop against the stage's app while a release
with a schema change goes out, and while one that never gets ready fails. Not one request
may fail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from flows.publish_app import publish_app
from oneclick.errors import DeployError
from oneclick.runtimes import LocalRuntime
from tests.flows.rollout_support import LoadLoop, variant
from tests.flows.test_rollout_failures import BROKEN, GOOD, SECRETS, httpx_post_employee


@pytest.mark.timeout(600)
def test_no_request_fails_during_a_schema_change_and_a_failed_publish(
    published_libraries: Path, stage_block: Callable[..., str], tmp_path: Path
) -> None:
    stage = stage_block("steady-load", order=15, settings=GOOD, secrets=SECRETS)
    runtime = LocalRuntime(published_libraries / "runtime")
    first = publish_app(str(variant(tmp_path, "v1")), stage)
    assert httpx_post_employee(first.url, "Ann")

    def locate() -> str | None:
        status = runtime.status(stage, "expenses")
        return status.url if status is not None else None

    with LoadLoop(locate) as during_change:
        second = publish_app(str(variant(tmp_path, "v2", version="1.1.0", phone=True)), stage)
    assert second.url == first.url and second.schema_changes, "the stage address stays"
    assert during_change.failures == [] and during_change.ok > 20, during_change.ok

    stage_block(stage, order=15, settings=BROKEN, secrets=SECRETS)
    third = variant(tmp_path, "v3", version="1.2.0", phone=True, job_title=True)
    with LoadLoop(locate) as during_failure, pytest.raises(DeployError):
        publish_app(str(third), stage)
    assert during_failure.failures == [] and during_failure.ok > 20, during_failure.ok
