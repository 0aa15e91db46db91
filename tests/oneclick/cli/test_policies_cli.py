"""`oneclick freeze`, `unfreeze`, `unpin`, `schedule` and the holds `status` shows."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest

from blocks import Stage
from flows.publish_app import publish_app
from flows.rollback_app import rollback_app
from oneclick.cli.policies import parse_until
from oneclick.home import Home
from oneclick.releases import Catalog
from tests.flows.rollout_support import variant
from tests.oneclick.cli.test_cli import oneclick

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_until_takes_a_duration_or_an_iso_time() -> None:
    assert parse_until("2h", NOW) == NOW + timedelta(hours=2)
    assert parse_until("+90m", NOW) == NOW + timedelta(minutes=90)
    assert parse_until("1w", NOW) == NOW + timedelta(weeks=1)
    assert parse_until("2026-12-24T18:00", NOW) == datetime(2026, 12, 24, 18, tzinfo=UTC)
    berlin = parse_until("2026-12-24T18:00+01:00", NOW)
    assert berlin.astimezone(UTC).hour == 17
    with pytest.raises(click.BadParameter, match="neither a duration"):
        parse_until("tomorrow", NOW)
    with pytest.raises(click.BadParameter, match="in the past"):
        parse_until("2026-12-01T00:00", NOW)


def test_a_release_manager_freezes_forces_pins_and_reads_the_schedule(
    published_libraries: Path, stage_block: Callable[..., str], tmp_path: Path
) -> None:
    source = stage_block("cli-dev", order=90)
    target = stage_block(
        "cli-qa", order=91, promotion={"source": source, "schedules": [{"cron": "0 2 * * *"}]}
    )
    first = publish_app(str(variant(tmp_path, "v1")), source)

    frozen = oneclick("freeze", target, "--until", "2h", "--reason", "audit week")
    assert frozen.returncode == 0, frozen.stderr
    assert "cli-qa is frozen: audit week until " in frozen.stdout
    [window] = Stage.load(target).promotion.freezes  # type: ignore[attr-defined]
    assert window.reason == "audit week"

    refused = oneclick("promote", "expenses", "--from", source, "--to", target)
    assert refused.returncode == 1
    assert "'cli-qa' is frozen: audit week until" in refused.stderr
    assert "--force --reason" in refused.stderr
    no_reason = oneclick("promote", "expenses", "--from", source, "--to", target, "--force")
    assert no_reason.returncode == 2 and "--force needs --reason" in no_reason.stderr
    schedule = oneclick("schedule")
    assert schedule.returncode == 0, schedule.stderr
    assert "cli-dev → cli-qa" in schedule.stdout
    assert "0 2 * * * (UTC): next " in schedule.stdout
    assert "skip: frozen: audit week" in schedule.stdout

    forced = oneclick(
        "promote", "expenses", "--from", source, "--to", target, "--force", "--reason", "fix 9"
    )
    assert forced.returncode == 0, forced.stderr
    catalog = Catalog(Home.from_env().catalog_url)
    current = catalog.current("expenses", target)
    assert current is not None and current.version == first.version
    assert current.started_by == f"{getpass.getuser()} (CLI)"
    assert current.override is not None and current.override.endswith("forced: fix 9")

    status = oneclick("status", "expenses")
    assert "Held back from scheduled promotions:" in status.stdout
    assert "cli-qa: frozen: audit week until" in status.stdout
    opened = oneclick("unfreeze", target)
    assert opened.returncode == 0 and "cli-qa takes promotions again" in opened.stdout

    # stop the line: frozen until unfrozen, for scheduled runs too
    stopped = oneclick("freeze", target, "--reason", "incident 3")
    assert "frozen: the line is stopped: incident 3" in stopped.stdout
    assert "skip: frozen: the line is stopped: incident 3" in oneclick("schedule").stdout
    oneclick("unfreeze", target)

    # a newer release on the source; a rollback on the target pins it there
    second = publish_app(str(variant(tmp_path, "v2", version="1.1.0", phone=True)), source)
    assert "would promote" in oneclick("schedule").stdout
    oneclick("promote", "expenses", "--from", source, "--to", target)
    rollback_app("expenses", target)
    assert f"skip: pinned on {first.version} by rollback" in oneclick("schedule").stdout
    assert f"expenses on cli-qa: pinned on {first.version}" in oneclick("status").stdout
    unpinned = oneclick("unpin", "expenses", "--stage", target)
    assert unpinned.returncode == 0 and "expenses on cli-qa is unpinned" in unpinned.stdout
    assert f"{first.version} → {second.version}" in oneclick("schedule").stdout
    assert "was not pinned" in oneclick("unpin", "expenses", "--stage", target).stdout
