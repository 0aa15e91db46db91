"""Fixtures for flow tests: the three stage blocks on the session's Prefect server, and the
example libraries published into each test's fresh oneclick home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import EXAMPLES, SECRET


@pytest.fixture(scope="session")
def stages(prefect_server: str) -> list[str]:
    from blocks import Stage

    limits = {"development": "5000", "qa": "1000", "production": "500"}
    for order, (name, limit) in enumerate(limits.items(), start=1):
        Stage(
            order=order,
            settings={"expenses": {"ApprovalLimit": limit, "CurrencySymbol": "€"}},
            secrets={"expenses": {"PaymentsApiKey": f"{SECRET}-{name}"}},
        ).save(name, overwrite=True)
    return list(limits)


@pytest.fixture
def published_libraries(stages: list[str], oneclick_home: Path) -> Iterator[Path]:
    """A fresh home holding the example libraries; stops every app the test started."""
    from flows.publish_library import publish_library
    from oneclick.runtimes import LocalRuntime

    for library in ("money-formats", "finance-common"):
        publish_library(str(EXAMPLES / library))
    yield oneclick_home
    LocalRuntime(oneclick_home / "runtime").stop_all()
