"""Scheduled promotion end to end, on the Prefect server `oneclick up` starts (its own, not
the test session's): Prefect's scheduler creates the promote-stage run from qa's policy, the
deployments `oneclick up` serves execute it, and qa then runs development's image. Any
scheduler error in the server's log fails the test."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from oneclick.home import Home
from oneclick.releases import Catalog
from tests.support import EXAMPLES, SECRET, free_port, oneclick, without_server

SETUP = """
from blocks import Stage
from flows.publish_app import publish_app
from flows.publish_library import publish_library

config = dict(
    settings={"expenses": {"ApprovalLimit": "100"}},
    secrets={"expenses": {"PaymentsApiKey": %(secret)r}},
)
Stage(order=1, **config).save("development")
for library in ("money-formats", "finance-common"):
    publish_library(%(examples)r + "/" + library)
publish_app(%(examples)r + "/expenses", "development")
# every minute: the first run after this save promotes
policy = {"source": "development", "schedules": [{"cron": "* * * * *"}, {"cron": "0 2 * * *"}]}
Stage(order=2, promotion=policy, **config).save("qa")
"""


def _oneclick(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    done = oneclick(*args, env=env, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[tuple[Home, str, dict[str, str]]]:
    """`oneclick up` on a fresh home and free ports; `oneclick down` afterwards."""
    home = Home(tmp_path / "home")
    env = without_server(home.root)
    port, relay = free_port(), free_port()
    _oneclick(env, "up", "--port", str(port), "--relay-port", str(relay))
    try:
        yield home, f"http://127.0.0.1:{port}/api", env
    finally:
        _oneclick(env, "down", timeout=120)


def _flow_runs(api: str, deployment: str, states: list[str]) -> list[dict[str, object]]:
    with httpx.Client(base_url=api, timeout=10) as client:
        found = client.get(f"/deployments/name/{deployment}").raise_for_status().json()
        body = {
            "deployments": {"id": {"any_": [found["id"]]}},
            "flow_runs": {"state": {"type": {"any_": states}}},
        }
        runs: list[dict[str, object]] = client.post("/flow_runs/filter", json=body).json()
    return runs


def _scheduler_errors(log: Path) -> list[str]:
    text = log.read_text(errors="replace")
    return [
        line
        for line in text.splitlines()
        if re.search(r"\bERROR\b|Traceback|InvalidRequestError", line)
    ]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_schedule_fires_and_promotes_development_s_image_to_qa(
    own_server: tuple[Home, str, dict[str, str]], tmp_path: Path
) -> None:
    home, api, env = own_server
    setup = {"secret": SECRET, "examples": str(EXAMPLES)}
    prefect_env = {**env, "PREFECT_API_URL": api, "PREFECT_HOME": str(home.prefect)}
    done = subprocess.run(
        [sys.executable, "-c", SETUP % setup], env=prefect_env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    catalog = Catalog(home.catalog_url)
    development = catalog.current("expenses", "development")
    assert development is not None

    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        qa = catalog.current("expenses", "qa")
        if qa is not None:
            break
        time.sleep(2)
    else:
        scheduled = _flow_runs(api, "promote-stage/promote-stage", ["SCHEDULED", "PENDING"])
        pytest.fail(
            f"no promotion within 240 s; {len(scheduled)} runs scheduled; server log errors: "
            f"{_scheduler_errors(home.prefect / 'server.log')[:5]}"
        )
    assert qa.image_digest == development.image_digest
    assert qa.started_by == "schedule: promote-stage qa"

    # the run that promoted ends Completed once it has written its summary
    deadline = time.monotonic() + 60
    while not any(
        run["auto_scheduled"]
        for run in _flow_runs(api, "promote-stage/promote-stage", ["COMPLETED"])
    ):
        assert time.monotonic() < deadline, "the scheduled run never completed"
        time.sleep(1)
    # the UI's Upcoming list: the scheduler keeps future runs of both entries
    upcoming = _flow_runs(api, "promote-stage/promote-stage", ["SCHEDULED"])
    assert upcoming and all(run["parameters"] == {"stage": "qa"} for run in upcoming)
    _upcoming_in_the_ui(api, tmp_path)
    _run_form_in_the_ui(api, tmp_path)
    assert _scheduler_errors(home.prefect / "server.log") == []


def _upcoming_in_the_ui(api: str, profile: Path) -> None:
    """The deployment's Upcoming tab lists the runs Prefect scheduled, as a person sees it."""
    from tests.oneclick.compiler.chromium_support import CHROMIUM, chromium

    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (scripts/test-deps installs it)")
    deployment = httpx.get(f"{api}/deployments/name/promote-stage/promote-stage").json()
    page = f"{api.removesuffix('/api')}/deployments/deployment/{deployment['id']}"
    upcoming = (
        "[...document.querySelectorAll('*')]"
        ".filter(e => e.children.length === 0 && e.textContent.trim() === 'Upcoming')"
    )
    with chromium(profile / "chromium") as browser:
        browser.navigate(page)
        browser.wait_for(f"{upcoming}.length > 0", timeout=30)
        browser.evaluate(f"{upcoming}[0].click()")
        text = browser.wait_for(
            "document.body.innerText.includes('Scheduled for') && document.body.innerText",
            timeout=30,
        )
    assert "auto-scheduled" in text
    slugs = sorted(schedule["slug"] for schedule in deployment["schedules"])
    assert slugs == ["promote qa: * * * * * (UTC)", "promote qa: 0 2 * * * (UTC)"]


def _run_form_in_the_ui(api: str, profile: Path) -> None:
    """promote-app's custom-run form: the stages and the app are chosen from dropdowns of
    the stage blocks and of the catalog's apps; optional values are plain fields."""
    from tests.oneclick.compiler.chromium_support import chromium

    deployment = httpx.get(f"{api}/deployments/name/promote-app/promote-app").json()
    page = f"{api.removesuffix('/api')}/deployments/deployment/{deployment['id']}/run"
    choices = (
        "[...document.querySelectorAll('select')]"
        ".map(s => [...s.options].map(o => o.value).filter(v => v).join(','))"
        ".filter(v => v)"
    )
    with chromium(profile / "chromium") as browser:
        browser.navigate(page)
        browser.wait_for("document.body.innerText.includes('to_stage')", timeout=30)
        selects = browser.evaluate(choices)
        text = browser.evaluate("document.body.innerText")
    assert selects.count("development,qa") == 2, selects  # from_stage, to_stage
    assert "expenses" in selects, selects  # the app, published before
    assert "The stage to deploy it to, with that stage's configuration." in text
    assert "Property is type" not in text
