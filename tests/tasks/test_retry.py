"""Tasks retry transient faults and only those, run as real Prefect tasks."""

from __future__ import annotations

import pytest
from prefect import flow, task

from oneclick.errors import SchemaError, TransientError
from tasks.retry import only_transient

attempts: dict[str, int] = {}


@task(retries=3, retry_delay_seconds=0, retry_condition_fn=only_transient)
def flaky(name: str, error: type[Exception], failures: int) -> int:
    attempts[name] = attempts.get(name, 0) + 1
    if attempts[name] <= failures:
        raise error(f"attempt {attempts[name]}")
    return attempts[name]


@flow
def run_flaky(name: str, error: type[Exception], failures: int) -> int:
    return flaky(name, error, failures)


def test_a_transient_fault_is_retried_until_it_passes(prefect_server: str) -> None:
    assert run_flaky("transient", TransientError, 2) == 3


def test_any_other_fault_fails_at_once(prefect_server: str) -> None:
    with pytest.raises(SchemaError, match="attempt 1"):
        run_flaky("refused", SchemaError, 2)
    assert attempts["refused"] == 1
