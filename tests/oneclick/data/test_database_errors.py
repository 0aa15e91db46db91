"""A stage database that cannot be used fails at once with its path and what to do: a
directory, a path that cannot be opened, a file that is not a database, a directory that
does not exist. None of them is retried and nothing is created on the way."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from prefect import flow, task
from sqlalchemy import MetaData

from oneclick.data import apply_schema, plan_schema
from oneclick.errors import OneclickError, StageError
from tasks.retry import RETRY


def broken_paths(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Each kind of unusable path, with what its message must say."""
    directory = tmp_path / "a-directory.db"
    directory.mkdir()
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a SQLite file, it only has its name" * 100)
    return {
        "directory": (directory, "is a directory"),
        "unopenable": (Path("/proc/oneclick-stage.db"), "cannot open the stage database"),
        "corrupt": (corrupt, "is not a SQLite database"),
        "no directory": (tmp_path / "missing" / "deeper" / "stage.db", "does not exist"),
    }


@pytest.mark.parametrize("kind", ["directory", "unopenable", "corrupt", "no directory"])
def test_an_unusable_stage_database_is_named_and_fails_at_once(
    kind: str, tmp_path: Path, oneclick_home: Path
) -> None:
    path, says = broken_paths(tmp_path)[kind]
    before = sorted(tmp_path.rglob("*"))
    url = f"sqlite:///{path}"
    for attempt in (
        lambda: plan_schema(url, MetaData(), "f1"),
        lambda: apply_schema(url, MetaData(), "f1", app="expenses", release="1"),
    ):
        with pytest.raises(StageError) as raised:
            attempt()
        assert says in str(raised.value) and str(path) in str(raised.value)
    assert sorted(tmp_path.rglob("*")) == before
    assert not Path("/proc/oneclick-stage.db").exists()


def test_a_stage_database_url_never_shows_its_password() -> None:
    url = "postgresql://app:s3cret-pw@127.0.0.1:1/nowhere"
    with pytest.raises(OneclickError) as raised:
        plan_schema(url, MetaData(), "f1")
    assert "s3cret-pw" not in str(raised.value) and "127.0.0.1" in str(raised.value)


def test_only_the_home_gets_a_directory_made(oneclick_home: Path) -> None:
    url = f"sqlite:///{oneclick_home / 'stages' / 'dev' / 'expenses.db'}"
    assert plan_schema(url, MetaData(), "f1").recorded_fingerprint is None
    assert (oneclick_home / "stages" / "dev").is_dir()


@task(**RETRY)
def plan_task(url: str) -> None:
    plan_schema(url, MetaData(), "f1")


@flow
def plan_flow(url: str) -> None:
    plan_task(url)


def test_a_task_on_an_unusable_database_is_not_retried(
    prefect_server: str, tmp_path: Path, oneclick_home: Path
) -> None:
    path = tmp_path / "a-directory.db"
    path.mkdir()
    started = time.monotonic()
    with pytest.raises(StageError, match="is a directory"):
        plan_flow(f"sqlite:///{path}")
    assert time.monotonic() - started < 1 + 3  # a retry waits 1 s, then 3, then 9
