"""A real ``git push`` publishes: the repository's hook posts a signed delivery to the relay,
the relay posts a Prefect event, the publish-app deployment's trigger creates a run with the
pushed commit, and that run publishes the app from a checkout of exactly that commit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.client.schemas.objects import FlowRun
from prefect.states import Cancelled
from pydantic import SecretStr

from blocks import GitSource
from blocks.git_source import load_git_sources
from flows.publish_app import publish_app
from flows.triggers import on_push
from oneclick.home import Home
from oneclick.relay import relay_app
from oneclick.relay.app import prefect_emitter
from oneclick.relay.deliveries import Deliveries
from oneclick.releases import Catalog
from tests.oneclick.relay.serving import serving
from tests.support import EXAMPLES

HOOK_SECRET = "push-hook-secret-not-in-logs"
HOOK = """#!{python}
# What a Gitea server does after a push: one signed JSON delivery per updated ref.
import hashlib, hmac, json, sys, urllib.request, uuid

for line in sys.stdin:
    old, new, ref = line.split()
    body = json.dumps({{
        "ref": ref, "before": old, "after": new,
        "repository": {{"full_name": "team/expenses", "clone_url": {clone_url!r}}},
    }}).encode()
    request = urllib.request.Request({url!r}, data=body, method="POST", headers={{
        "Content-Type": "application/json",
        "X-Gitea-Event": "push",
        "X-Gitea-Delivery": str(uuid.uuid4()),
        "X-Gitea-Signature": hmac.new({secret!r}.encode(), body, hashlib.sha256).hexdigest(),
    }})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({{}}))
    with opener.open(request, timeout=30) as answer:
        print("relay:", answer.status, answer.read().decode())
"""


def git(*args: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.org",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.org",
    }
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


@pytest.fixture
def source_block(prefect_server: str) -> Iterator[Callable[..., None]]:
    made: list[str] = []

    def make(name: str, **fields: object) -> None:
        GitSource(**fields).save(name, overwrite=True)
        made.append(name)

    yield make
    for name in made:
        GitSource.delete(name)


def triggered_runs(deployment_id: UUID) -> list[FlowRun]:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
        )


def test_a_git_push_publishes_the_pushed_commit(
    prefect_server: str,
    published_libraries: Path,
    stage_block: Callable[..., str],
    source_block: Callable[..., None],
    tmp_path: Path,
) -> None:
    stage = stage_block("push-dev", order=70)
    origin = tmp_path / "expenses.git"
    work = tmp_path / "work"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(origin), cwd=tmp_path)
    git("clone", "--quiet", str(origin), str(work), cwd=tmp_path)
    shutil.copytree(EXAMPLES / "expenses", work / "apps" / "expenses")
    git("add", ".", cwd=work)
    git("commit", "--quiet", "-m", "expenses", cwd=work)
    commit = git("rev-parse", "HEAD", cwd=work).strip()
    source_block(
        "expenses-push",
        provider="gitea",
        repository="team/expenses",
        branch="main",
        path="apps/expenses",
        stage=stage,
        secret=SecretStr(HOOK_SECRET),
    )
    deployment_id = publish_app.to_deployment(
        "publish-app-on-push", triggers=[on_push("app")]
    ).apply()
    relay = relay_app(
        load_git_sources,
        Deliveries(Catalog(Home.from_env().catalog_url)),
        prefect_emitter(prefect_server),
    )
    try:
        with serving(relay) as url:
            hook = origin / "hooks" / "post-receive"
            hook.write_text(
                HOOK.format(
                    python=sys.executable,
                    url=f"{url}/hooks/gitea",
                    clone_url=str(origin),
                    secret=HOOK_SECRET,
                )
            )
            hook.chmod(0o755)
            pushed = git("push", "origin", "main", cwd=work)
        assert "relay: 202" in pushed, pushed

        deadline = time.monotonic() + 60
        while not (runs := triggered_runs(deployment_id)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(runs) == 1, "the push did not start a publish-app run"
        parameters = runs[0].parameters
        assert parameters == {
            "path": "apps/expenses",
            "stage": stage,
            "repository": str(origin),
            "source_revision": commit,
        }

        # what a worker does with that run: publish from a checkout of the pushed commit
        result = publish_app(**parameters)
        assert httpx.get(f"{result.url}/readyz").status_code == 200
        release = Catalog(Home.from_env().catalog_url).release("expenses", result.version)
        assert release.source_revision == commit
        assert HOOK_SECRET not in pushed
    finally:
        with get_client(sync_client=True) as client:
            for run in triggered_runs(deployment_id):
                client.set_flow_run_state(run.id, Cancelled(), force=True)
            client.delete_deployment(deployment_id)
