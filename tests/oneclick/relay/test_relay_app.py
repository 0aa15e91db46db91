"""The relay's answers to real HTTP requests: signed pushes become events, nothing else does."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from oneclick.relay import GitSource, relay_app
from oneclick.relay.app import MAX_BODY
from oneclick.relay.deliveries import Deliveries
from oneclick.relay.signatures import sign, sign_gitlab
from oneclick.releases import Catalog
from tests.oneclick.relay.serving import serving

SECRET = "hook-secret-never-logged"
COMMIT = "4f1c2a9d3e5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d"


class Events:
    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []
        self.fail = False

    def __call__(self, events: list[dict[str, Any]]) -> None:
        if self.fail:
            raise ConnectionError("the Prefect server did not answer")
        self.posted += events


def github_push(ref: str = "refs/heads/main", after: str = COMMIT) -> bytes:
    return json.dumps(
        {
            "ref": ref,
            "after": after,
            "repository": {"full_name": "team/expenses", "clone_url": "/srv/git/expenses.git"},
        }
    ).encode()


def github_headers(body: bytes, delivery: str = "d-1", event: str = "push") -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": "sha256=" + sign(SECRET, body),
        "Content-Type": "application/json",
    }


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def client(tmp_path: Path, events: Events) -> Iterator[httpx.Client]:
    sources = [
        GitSource(
            name="expenses",
            provider="github",
            repository="team/expenses",
            path="apps/expenses",
            stage="qa",
            secret=SecretStr(SECRET),
        ),
        GitSource(
            name="expenses-lab",
            provider="gitlab",
            repository="team/expenses",
            branch="release",
            secret=SecretStr(SECRET),
        ),
        GitSource(
            name="common",
            provider="gitea",
            repository="team/finance-common",
            kind="library",
            secret=SecretStr(SECRET),
        ),
    ]
    deliveries = Deliveries(Catalog(f"sqlite:///{tmp_path / 'd.db'}"))
    app = relay_app(lambda: sources, deliveries, events, mirrors=tmp_path / "mirrors")
    with serving(app) as url, httpx.Client(base_url=url, trust_env=False) as http:
        yield http


def test_a_signed_push_to_the_watched_branch_becomes_one_event(
    client: httpx.Client, events: Events
) -> None:
    body = github_push()
    response = client.post("/hooks/github", content=body, headers=github_headers(body))
    assert response.status_code == 202, response.text
    assert response.json()["sources"] == ["expenses"]
    (event,) = events.posted
    assert event["event"] == "oneclick.git.push.app"
    assert event["resource"]["prefect.resource.id"] == "oneclick.git-source.expenses"
    assert event["payload"] == {
        "repository": "/srv/git/expenses.git",
        "branch": "main",
        "commit": COMMIT,
        "path": "apps/expenses",
        "stage": "qa",
        "provider": "github",
        "delivery": "d-1",
    }
    assert event["id"] == response.json()["events"][0]


def test_a_wrong_signature_is_refused_and_nothing_is_posted(
    client: httpx.Client, events: Events
) -> None:
    body = github_push()
    headers = github_headers(body)
    headers["X-Hub-Signature-256"] = "sha256=" + sign("another-secret", body)
    response = client.post("/hooks/github", content=body, headers=headers)
    assert response.status_code == 401
    assert "not signed with the secret of a git source" in response.json()["error"]
    tampered = body.replace(COMMIT.encode(), b"0" * 40)
    response = client.post("/hooks/github", content=tampered, headers=github_headers(body))
    assert response.status_code == 401
    unsigned = {k: v for k, v in github_headers(body).items() if "Signature" not in k}
    assert client.post("/hooks/github", content=body, headers=unsigned).status_code == 401
    assert events.posted == []
    assert SECRET not in response.text


def test_a_replayed_delivery_is_refused(client: httpx.Client, events: Events) -> None:
    body = github_push()
    assert client.post("/hooks/github", content=body, headers=github_headers(body)).is_success
    for delivery in ("d-1", "a-new-id"):
        again = client.post("/hooks/github", content=body, headers=github_headers(body, delivery))
        assert again.status_code == 409
        assert "was already received: a replay" in again.json()["error"]
    assert len(events.posted) == 1


def test_an_oversized_body_is_refused_before_it_is_read(client: httpx.Client) -> None:
    body = b"{" + b" " * MAX_BODY + b"}"
    response = client.post("/hooks/github", content=body, headers=github_headers(b"{}"))
    assert response.status_code == 413


def test_what_is_not_a_push_to_a_watched_branch_is_answered_and_ignored(
    client: httpx.Client, events: Events
) -> None:
    ping = github_push()
    answer = client.post("/hooks/github", content=ping, headers=github_headers(ping, "p", "ping"))
    assert answer.status_code == 202 and answer.json()["ignored"] == "ping event"
    other = github_push(ref="refs/heads/feature")
    answer = client.post("/hooks/github", content=other, headers=github_headers(other, "o"))
    assert "no source watches branch 'feature'" in answer.json()["ignored"]
    tag = github_push(ref="refs/tags/v1")
    answer = client.post("/hooks/github", content=tag, headers=github_headers(tag, "t"))
    assert "is not a branch" in answer.json()["ignored"]
    deleted = github_push(after="0" * 40)
    answer = client.post("/hooks/github", content=deleted, headers=github_headers(deleted, "x"))
    assert "is not a branch with a commit" in answer.json()["ignored"]
    assert events.posted == []


def test_unknown_repositories_providers_and_bodies_get_clear_answers(client: httpx.Client) -> None:
    body = json.dumps({"ref": "refs/heads/main", "repository": {"full_name": "x/y"}}).encode()
    response = client.post("/hooks/github", content=body, headers=github_headers(body))
    assert response.status_code == 401  # signed, but not for a repository a source watches
    assert client.post("/hooks/bitbucket", content=b"{}").status_code == 404
    body = b"not json"
    response = client.post("/hooks/github", content=body, headers=github_headers(body))
    assert response.status_code == 400 and "not JSON" in response.json()["error"]


def test_a_gitea_push_of_a_library(client: httpx.Client, events: Events) -> None:
    body = json.dumps(
        {
            "ref": "refs/heads/main",
            "after": COMMIT,
            "repository": {"full_name": "team/finance-common", "clone_url": "/srv/common.git"},
        }
    ).encode()
    headers = {
        "X-Gitea-Event": "push",
        "X-Gitea-Delivery": "g-1",
        "X-Gitea-Signature": sign(SECRET, body),
    }
    assert client.post("/hooks/gitea", content=body, headers=headers).status_code == 202
    assert events.posted[0]["event"] == "oneclick.git.push.library"
    headers["X-Gitea-Delivery"] = "g-2"
    headers["X-Gitea-Signature"] = sign("wrong", body)
    assert client.post("/hooks/gitea", content=body, headers=headers).status_code == 401


def gitlab_push() -> bytes:
    return json.dumps(
        {
            "ref": "refs/heads/release",
            "checkout_sha": COMMIT,
            "project": {
                "path_with_namespace": "team/expenses",
                "git_http_url": "/srv/git/expenses.git",
            },
        }
    ).encode()


def test_a_gitlab_push_signed_with_a_signing_token(client: httpx.Client, events: Events) -> None:
    body = gitlab_push()
    now = int(time.time())
    headers = {
        "X-Gitlab-Event": "Push Hook",
        "webhook-id": "w-1",
        "webhook-timestamp": str(now),
        "webhook-signature": sign_gitlab(SECRET, "w-1", now, body),
    }
    response = client.post("/hooks/gitlab", content=body, headers=headers)
    assert response.status_code == 202, response.text
    assert events.posted[0]["payload"]["branch"] == "release"

    stale = now - 3600
    headers.update(
        {
            "webhook-id": "w-2",
            "webhook-timestamp": str(stale),
            "webhook-signature": sign_gitlab(SECRET, "w-2", stale, body),
        }
    )
    response = client.post("/hooks/gitlab", content=body, headers=headers)
    assert response.status_code == 401 and "a replay?" in response.json()["error"]


def test_a_gitlab_secret_token(client: httpx.Client, events: Events) -> None:
    body = gitlab_push()
    headers = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": "u-1"}
    good = {**headers, "X-Gitlab-Token": SECRET}
    assert client.post("/hooks/gitlab", content=body, headers=good).status_code == 202
    bad = {**headers, "X-Gitlab-Event-UUID": "u-2", "X-Gitlab-Token": "guess"}
    assert client.post("/hooks/gitlab", content=body, headers=bad).status_code == 401
    assert len(events.posted) == 1


def test_a_delivery_prefect_did_not_take_can_be_delivered_again(
    client: httpx.Client, events: Events
) -> None:
    body = github_push()
    events.fail = True
    response = client.post("/hooks/github", content=body, headers=github_headers(body))
    assert response.status_code == 503 and "redeliver" in response.json()["error"]
    events.fail = False
    assert client.post("/hooks/github", content=body, headers=github_headers(body)).is_success
    assert len(events.posted) == 1
