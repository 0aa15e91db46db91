"""The attacks found on the relay, replayed against a real relay on 127.0.0.1 that reads real
git source blocks from the session's Prefect server and posts real events a deployment
trigger turns into runs. Each attack is refused; a good push afterwards still publishes.

"No run" is checked after a good push's run appeared: events are handled in order, so a run
an earlier delivery started would be there by then.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.settings import PREFECT_API_URL, temporary_settings
from pydantic import SecretStr

from blocks import GitSource
from blocks.git_source import load_git_sources
from flows.publish_app import publish_app
from flows.triggers import on_push
from oneclick.relay import relay_app
from oneclick.relay.app import prefect_emitter
from oneclick.relay.deliveries import Deliveries
from oneclick.relay.signatures import sign
from oneclick.releases import Catalog, Phase
from tests.oneclick.relay.serving import serving
from tests.support import free_port

SECRET = "attack-test-hook-secret"
REPOSITORY = "team/attacked"


def git(*args: str, cwd: Path) -> str:
    identity = ["-c", "user.name=Dev", "-c", "user.email=dev@example.org"]
    return subprocess.run(
        ["git", *identity, *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


@dataclass
class Relay:
    http: httpx.Client
    url: str
    origin: Path
    commits: list[str]  # oldest first
    catalog: Catalog
    deployment: UUID
    reads: list[int]  # one entry per read of the git sources

    def push(self, provider: str, after: str, before: str, delivery: str) -> httpx.Response:
        body, headers = signed_push(provider, after, before, delivery, str(self.origin))
        return self.http.post(f"/hooks/{provider}", content=body, headers=headers)

    def runs_of(self, commit: str, wait: float = 0.0) -> list[Any]:
        deadline = time.monotonic() + wait
        while True:
            with get_client(sync_client=True) as client:
                runs = client.read_flow_runs(
                    deployment_filter=DeploymentFilter(
                        id=DeploymentFilterId(any_=[self.deployment])
                    )
                )
            found = [r for r in runs if r.parameters.get("source_revision") == commit]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.3)

    def published(self, commit: str, stage: str) -> None:
        """Record what a publish of ``commit`` to ``stage`` would have recorded."""
        version = f"1.0.{len(self.catalog.deployments('attacked'))}"
        manifest = {"app": "attacked", "digest": "sha256:" + "b" * 64, "schema_fingerprint": "f"}
        self.catalog.record_release(
            manifest=manifest,
            model={"app": "attacked"},
            version=version,
            image_digest="sha256:" + "c" * 64,
            image_reference="layout:attacked",
            source_revision=commit,
        )
        done = self.catalog.start_deployment("attacked", version, stage, None)
        self.catalog.finish_deployment(done, Phase.SUCCEEDED)


def signed_push(
    provider: str, after: str, before: str, delivery: str, clone_url: str
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "ref": "refs/heads/main",
            "before": before,
            "after": after,
            "repository": {"full_name": REPOSITORY, "clone_url": clone_url},
        }
    ).encode()
    if provider == "github":
        return body, {
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": "sha256=" + sign(SECRET, body),
        }
    return body, {
        "X-Gitea-Event": "push",
        "X-Gitea-Delivery": delivery,
        "X-Gitea-Signature": sign(SECRET, body),
    }


@pytest.fixture
def relay(prefect_server: str, tmp_path: Path) -> Iterator[Relay]:
    origin = tmp_path / "attacked.git"
    work = tmp_path / "work"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(origin), cwd=tmp_path)
    git("clone", "--quiet", str(origin), str(work), cwd=tmp_path)
    (work / "app").mkdir()
    commits = []
    for number in range(4):
        (work / "app" / "app.yaml").write_text(f"app: attacked  # edit {number}\ntitle: T\n")
        git("add", ".", cwd=work)
        git("commit", "--quiet", "-m", f"edit {number}", cwd=work)
        commits.append(git("rev-parse", "HEAD", cwd=work))
    git("push", "--quiet", "origin", "main", cwd=work)
    tag = uuid.uuid4().hex[:8]
    names = {"github": f"attacked-gh-{tag}", "gitea": f"attacked-gt-{tag}"}
    for provider, name in names.items():
        GitSource(
            provider=provider,
            repository=REPOSITORY,
            path="app",
            stage="attack-stage",
            secret=SecretStr(SECRET),
        ).save(name, overwrite=True)
    deployment = publish_app.to_deployment(
        f"publish-on-push-{tag}", triggers=[on_push("app")]
    ).apply()
    reads: list[int] = []

    def sources() -> list[Any]:
        reads.append(1)
        return load_git_sources()

    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    app = relay_app(
        sources, Deliveries(catalog), prefect_emitter(prefect_server), mirrors=tmp_path / "m"
    )
    try:
        with serving(app) as url, httpx.Client(base_url=url, trust_env=False, timeout=60) as http:
            yield Relay(http, url, origin, commits, catalog, deployment, reads)
    finally:
        with get_client(sync_client=True) as client:
            client.delete_deployment(deployment)
        for name in names.values():
            GitSource.delete(name)


@pytest.mark.parametrize("provider", ["github", "gitea"])
def test_a_replay_under_a_new_delivery_id_is_refused(relay: Relay, provider: str) -> None:
    first, second = relay.commits[0], relay.commits[1]
    assert relay.push(provider, second, first, "delivery-1").status_code == 202
    assert len(relay.runs_of(second, wait=30)) == 1
    replay = relay.push(provider, second, first, "a-brand-new-delivery-id")
    assert replay.status_code == 409 and "a replay" in replay.json()["error"]
    good = relay.push(provider, relay.commits[2], second, "delivery-3")
    assert good.status_code == 202 and relay.runs_of(relay.commits[2], wait=30)
    assert len(relay.runs_of(second)) == 1


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.text: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.text.append(self.format(record))


@pytest.fixture
def logged() -> Iterator[Lines]:
    lines = Lines()
    names = ["", "uvicorn", "uvicorn.error", "oneclick.relay"]
    for name in names:
        logging.getLogger(name).addHandler(lines)
    yield lines
    for name in names:
        logging.getLogger(name).removeHandler(lines)


def test_a_deeply_nested_body_is_refused_without_a_traceback(relay: Relay, logged: Lines) -> None:
    body = b"[" * 500_000
    unsigned = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "deep"}
    answer = relay.http.post("/hooks/github", content=body, headers=unsigned)
    assert answer.status_code == 401
    signed = {**unsigned, "X-Hub-Signature-256": "sha256=" + sign(SECRET, body)}
    answer = relay.http.post("/hooks/github", content=body, headers=signed)
    assert answer.status_code == 400 and "nests deeper than" in answer.json()["error"]
    text = "\n".join(logged.text)
    assert "Traceback" not in text and "RecursionError" not in text


def test_an_unauthenticated_caller_learns_nothing_and_costs_no_api_call(relay: Relay) -> None:
    answers = []
    for repository in (REPOSITORY, "someone/unwatched"):
        body = json.dumps({"ref": "refs/heads/main", "repository": {"full_name": repository}})
        reads = len(relay.reads)
        answers.append(relay.http.post("/hooks/github", content=body))  # no signature
        assert len(relay.reads) == reads  # refused on its headers: no API call
        wrong = {"X-Hub-Signature-256": "sha256=" + sign("a-guess", body.encode())}
        answers.append(relay.http.post("/hooks/github", content=body, headers=wrong))
    assert [a.status_code for a in answers] == [401] * 4
    assert answers[0].json() == answers[2].json() and answers[1].json() == answers[3].json()
    assert len(relay.reads) == 2  # one read per delivery that got past the cheap checks


@pytest.mark.parametrize(
    ("after", "says"),
    [
        ("23ff666051\n", "is not a commit id"),
        ("{}\n", "is not a commit id"),
        ("z" * 40, "is not a commit id"),
        ("a" * 39, "is not a commit id"),
    ],
)
def test_a_push_whose_commit_is_not_a_full_commit_id_is_refused(
    relay: Relay, after: str, says: str
) -> None:
    after = after.format(relay.commits[3])
    answer = relay.push("github", after, relay.commits[2], "loose")
    assert answer.status_code == 400 and says in answer.json()["error"]
    assert relay.runs_of(after) == []


def test_a_push_of_what_the_stage_already_got_starts_no_run(relay: Relay) -> None:
    first, second, third, fourth = relay.commits
    relay.published(third, "attack-stage")
    again = relay.push("github", third, first, "same-commit-other-push")
    assert again.status_code == 200, again.text
    assert "already published" in json.dumps(again.json())
    back = relay.push("gitea", second, third, "force-pushed-back")
    assert back.status_code == 200, back.text
    assert "is an ancestor of" in json.dumps(back.json())
    assert relay.push("github", fourth, third, "new").status_code == 202
    assert relay.runs_of(fourth, wait=30)
    assert relay.runs_of(third) == [] and relay.runs_of(second) == []


def test_two_hundred_bad_deliveries_at_once_then_a_good_push(relay: Relay, logged: Lines) -> None:
    body, headers = signed_push("github", relay.commits[1], relay.commits[0], "good", "x")
    bad: list[tuple[bytes, dict[str, str]]] = [
        (body, {}),  # unsigned
        (body, {**headers, "X-Hub-Signature-256": "sha256=" + sign("guess", body)}),
        (b"[" * 500_000, {"X-Hub-Signature-256": "sha256=" + "0" * 64}),
        (body.replace(b"main", b"mainx"), headers),  # tampered
    ]

    async def send_all() -> list[int]:
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(base_url=relay.url, limits=limits, timeout=120) as http:
            answers = await asyncio.gather(
                *(
                    http.post("/hooks/github", content=bad[i % 4][0], headers=bad[i % 4][1])
                    for i in range(200)
                )
            )
        return [a.status_code for a in answers]

    assert set(asyncio.run(send_all())) == {401}
    refused = {line for line in logged.text if "refused a github delivery" in line}
    assert 1 <= len(refused) <= 4  # a line per kind of refusal, not one per request
    good = relay.push("github", relay.commits[1], relay.commits[0], "good")
    assert good.status_code == 202, good.text
    assert relay.runs_of(relay.commits[1], wait=30)


def test_the_relay_answers_503_while_the_prefect_api_is_down(
    prefect_server: str, tmp_path: Path
) -> None:
    down = f"http://127.0.0.1:{free_port()}/api"

    def sources() -> list[Any]:
        with temporary_settings({PREFECT_API_URL: down}):
            return load_git_sources()

    deliveries = Deliveries(Catalog(f"sqlite:///{tmp_path / 'catalog.db'}"))
    app = relay_app(sources, deliveries, prefect_emitter(down), mirrors=tmp_path / "m")
    body, headers = signed_push("github", "a" * 40, "b" * 40, "while-down", "x")
    with serving(app) as url:
        answer = httpx.post(f"{url}/hooks/github", content=body, headers=headers, timeout=120)
    assert answer.status_code == 503, answer.text
    assert "redeliver later" in answer.json()["error"] and SECRET not in answer.text
