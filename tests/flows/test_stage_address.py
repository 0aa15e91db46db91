"""The stable stage address on the local runtime, end to end: one URL for an app on a stage
across two publishes and a rollback (in the catalog and the release artifacts too), brought
back at that URL by what `oneclick up` runs after `oneclick down`, and after its proxy was
SIGKILLed, by the next publish."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from flows.publish_app import publish_app
from flows.rollback_app import rollback_app
from flows.stages import load_stage
from oneclick.home import Home
from oneclick.releases import Catalog
from oneclick.rollout.restore import restore_stage_apps
from oneclick.runtimes import LocalRuntime
from tests.flows.rollout_support import deployments, employees, ready, variant, wait_for
from tests.flows.test_rollout_failures import GOOD, SECRETS, httpx_post_employee
from tests.oneclick.runtimes.test_local_runtime import refuses as refuses_at
from tests.support import latest_artifact


def refuses(url: str) -> bool:
    return refuses_at(f"{url}/healthz")


@pytest.mark.timeout(600)
def test_one_url_across_publishes_a_rollback_down_and_up_and_a_killed_proxy(
    published_libraries: Path, stage_block: Callable[..., str], tmp_path: Path
) -> None:
    stage = stage_block("address", order=70, settings=GOOD, secrets=SECRETS)
    first = publish_app(str(variant(tmp_path, "v1")), stage)
    url = first.url
    assert httpx_post_employee(url, "Ann")
    second = publish_app(str(variant(tmp_path, "v2", version="1.1.0", phone=True)), stage)
    back = rollback_app("expenses", stage)
    assert second.url == back.url == url and back.version == first.version
    assert {d.url for d in deployments(stage=stage)} == {url}
    assert f"| stage URL | [{url}]({url}) |" in latest_artifact(f"expenses-{stage}-release")
    assert latest_artifact(f"expenses-{stage}-url") == f"[expenses on {stage}]({url})"

    runtime = LocalRuntime(published_libraries / "runtime")
    home = Home.from_env()
    catalog = Catalog(home.catalog_url)
    assert runtime.stop_all(), "`oneclick down` stops the stage's app"
    assert refuses(url)
    other = LocalRuntime(home.runtime).status(stage, "expenses")
    assert other is not None and not other.alive
    lines = restore_stage_apps(catalog, [load_stage(stage, home)], home)  # `oneclick up`
    assert f"expenses {first.version} on {stage} restored at {url}" in lines, lines
    assert ready(url) and employees(url) == ["Ann"]
    assert restore_stage_apps(catalog, [load_stage(stage, home)], home) == [
        f"expenses {first.version} on {stage} runs at {url}"
    ]

    address = runtime.addresses.read(stage, "expenses")
    assert address is not None
    os.kill(address.pid, signal.SIGKILL)
    wait_for(lambda: refuses(url), timeout=10, what="the killed proxy to stop answering")
    again = publish_app(str(variant(tmp_path, "v1-again")), stage)
    assert again.url == url and not again.unchanged
    assert ready(url) and employees(url) == ["Ann"]
