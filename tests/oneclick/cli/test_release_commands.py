"""The release manager's reading commands (`history`, `releases`, `libraries`) and `config`,
run as a user runs them, against a real server and real publishes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from blocks import Stage
from oneclick.releases import Catalog
from oneclick.runtimes import LocalRuntime
from tests.support import EXAMPLES, SECRET, oneclick


@pytest.mark.timeout(900)
def test_history_releases_libraries_and_config(
    published_libraries: Path, stage_block: Callable[..., str]
) -> None:
    dev, qa = stage_block("cfg-dev", order=61), stage_block("cfg-qa", order=62)
    try:
        assert (
            oneclick("publish", "app", str(EXAMPLES / "expenses"), "--stage", dev).returncode == 0
        )
        promoted = oneclick("promote", "expenses", "--from", dev, "--to", qa)
        assert promoted.returncode == 0, promoted.stderr
        version = (
            Catalog(f"sqlite:///{published_libraries / 'catalog.db'}").release("expenses").version
        )

        history = oneclick("history", "expenses")
        assert history.returncode == 0, history.stderr
        table, changes = history.stdout.split("\n\n")
        rows = table.splitlines()
        assert len(rows) == 3 and "Schema changes:" in changes  # the first deploy made tables
        assert rows[0].split()[:4] == ["WHEN", "(UTC)", "STAGE", "RELEASE"]
        assert [r.split()[2] for r in rows[1:3]] == [qa, dev]  # newest first
        assert all(version in r and "succeeded" in r and "(CLI)" in r for r in rows[1:3])
        only_qa = oneclick("history", "expenses", "--stage", qa).stdout.split("\n\n")[0]
        assert len(only_qa.splitlines()) == 2 and qa in only_qa.splitlines()[1]

        releases = oneclick("releases", "expenses")
        assert releases.returncode == 0, releases.stderr
        [line] = [r for r in releases.stdout.splitlines() if r.startswith(version)]
        assert "finance-common 1.2.0" in line and f"{dev}, {qa}" in line

        listing = oneclick("libraries")
        assert listing.returncode == 0, listing.stderr
        assert any(r.split() == ["finance-common", "1.2.0"] for r in listing.stdout.splitlines())
        one = oneclick("libraries", "finance-common").stdout.splitlines()
        assert one[1].startswith("1.2.0") and f"expenses {version}" in one[1]
        assert f"expenses {version}: {dev}" in one[1] and f"expenses {version}: {qa}" in one[1]
        assert one[-1] == "  expenses: 1.2.0 (newest match: 1.2.0)"

        shown = oneclick("config", "expenses", "--stage", qa)
        assert shown.returncode == 0, shown.stderr
        assert "ApprovalLimit" in shown.stdout and "750" in shown.stdout
        assert "****" in shown.stdout and SECRET not in shown.stdout

        bad = oneclick("config", "expenses", "--stage", qa, "set", "ApprovalLimit=lots")
        assert bad.returncode == 1 and "ApprovalLimit is a decimal: expected" in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
        unknown = oneclick("config", "expenses", "--stage", qa, "set", "Nope=1")
        assert unknown.returncode == 1 and "declares no setting 'Nope'" in unknown.stderr
        on_argv = oneclick(
            "config", "expenses", "--stage", qa, "set", "--secret", "PaymentsApiKey=x"
        )
        assert on_argv.returncode == 2 and "never read from the command line" in on_argv.stderr
        assert len(on_argv.stderr.strip().splitlines()) == 1
        needed = oneclick("config", "expenses", "--stage", qa, "unset", "PaymentsApiKey")
        assert needed.returncode == 1 and "needs PaymentsApiKey" in needed.stderr

        secret = oneclick(
            "config", "expenses", "--stage", qa, "set", "--secret", "PaymentsApiKey", "--no-apply",
            stdin="rotated-key\n",
        )  # fmt: skip
        assert secret.returncode == 0, secret.stderr
        assert "rotated-key" not in secret.stdout + secret.stderr
        assert "oneclick configure expenses --stage cfg-qa" in secret.stdout
        block = Stage.load(qa)
        assert isinstance(block, Stage)
        assert block.secrets.get_secret_value()["expenses"]["PaymentsApiKey"] == "rotated-key"

        applied = oneclick(
            "config", "expenses", "--stage", qa, "set", "ApprovalLimit=900", "--apply"
        )
        assert applied.returncode == 0, applied.stderr
        assert f"expenses {version} reconfigured on {qa}" in applied.stdout
        block = Stage.load(qa)
        assert isinstance(block, Stage) and block.settings["expenses"]["ApprovalLimit"] == "900"

        nothing = oneclick("history", "nothing-here")
        assert nothing.returncode == 1 and "no release of 'nothing-here'" in nothing.stderr
    finally:
        LocalRuntime(published_libraries / "runtime").stop_all()
