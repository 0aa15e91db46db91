"""Promotion into a stage that requires approval waits for a person, through the real server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import FlowRunSort

from blocks import Stage
from flows.promote_app import promote_app
from flows.publish_app import publish_app
from oneclick.errors import StageError
from tests.support import EXAMPLES


@pytest.fixture
def protected_production(stages: list[str]) -> Iterator[None]:
    block = Stage.load("production")
    assert isinstance(block, Stage)
    block.model_copy(update={"requires_approval": True}).save("production", overwrite=True)
    yield
    block.save("production", overwrite=True)


def promote_in_background() -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = promote_app("expenses", "development", "production")
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def paused_run() -> UUID:
    deadline = time.monotonic() + 60
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
                ),
                sort=FlowRunSort.START_TIME_DESC,
                limit=5,
            )
            if runs:
                return runs[0].id
            time.sleep(0.5)
    raise AssertionError("the promotion never paused for approval")


def resume(run_id: UUID, answer: dict[str, Any]) -> None:
    with get_client(sync_client=True) as client:
        client.resume_flow_run(run_id, run_input=answer)


@pytest.mark.usefixtures("protected_production")
def test_an_approved_promotion_goes_ahead(published_libraries: Path) -> None:
    dev = publish_app(str(EXAMPLES / "expenses"), "development")
    thread, outcome = promote_in_background()
    resume(paused_run(), {"approve": True, "reason": "release notes checked"})
    thread.join(timeout=120)
    assert "error" not in outcome, outcome
    assert outcome["result"].image_digest == dev.image_digest


@pytest.mark.usefixtures("protected_production")
def test_a_rejected_promotion_touches_nothing(published_libraries: Path) -> None:
    publish_app(str(EXAMPLES / "expenses"), "development")
    thread, outcome = promote_in_background()
    resume(paused_run(), {"approve": False, "reason": "not this week"})
    thread.join(timeout=120)
    error = outcome.get("error")
    assert isinstance(error, StageError)
    assert "was rejected: not this week" in str(error)
    assert not (published_libraries / "stages" / "production").exists()
