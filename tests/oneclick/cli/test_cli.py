"""The oneclick command, run as a user runs it: a subprocess against the real server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from oneclick.runtimes import LocalRuntime
from tests.support import EXAMPLES, SECRET, oneclick

pytestmark = pytest.mark.usefixtures("stages")


@pytest.fixture
def home(oneclick_home: Path) -> object:
    yield oneclick_home
    LocalRuntime(oneclick_home / "runtime").stop_all()


def test_usage_errors_exit_2() -> None:
    result = oneclick("promote")
    assert result.returncode == 2
    assert "Missing argument 'APP'" in result.stderr


def test_publish_promote_status_end_to_end(home: Path) -> None:
    for library in ("money-formats", "finance-common"):
        result = oneclick("publish", "library", str(EXAMPLES / library))
        assert result.returncode == 0, result.stderr
        assert "stored: sha256:" in result.stdout
    again = oneclick("publish", "library", str(EXAMPLES / "finance-common"))
    assert again.returncode == 0 and "already stored (unchanged)" in again.stdout

    published = oneclick("publish", "app", str(EXAMPLES / "expenses"))
    assert published.returncode == 0, published.stderr
    assert "runs on development: http://127.0.0.1:" in published.stdout
    assert "compile app" in published.stderr  # progress, task by task
    promoted = oneclick("promote", "expenses", "--from", "development", "--to", "qa")
    assert promoted.returncode == 0, promoted.stderr
    url = promoted.stdout.strip().rsplit(" ", 1)[-1]
    assert httpx.get(f"{url}/readyz").status_code == 200

    status = oneclick("status")
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    header = ["APP", "STAGE", "VERSION", "IMAGE", "SCHEMA", "DRIFT", "URL", "INSTANCE", "HEALTH"]
    assert lines[0].split() == header
    rows = {line.split()[1]: line.split() for line in lines[1:]}
    assert set(rows) == {"development", "qa"}
    assert rows["development"][2] == rows["qa"][2]  # the same release
    assert rows["qa"][5:7] == ["none", url] and rows["qa"][8] == "ready"
    assert rows["qa"][7].startswith("pid:")

    nothing_earlier = oneclick("rollback", "expenses", "--stage", "qa")
    assert nothing_earlier.returncode == 1 and "Traceback" not in nothing_earlier.stderr
    assert "has run only one release on 'qa'" in nothing_earlier.stderr

    undeployed = oneclick("undeploy", "expenses", "--stage", "qa")
    assert undeployed.returncode == 0, undeployed.stderr
    assert "expenses no longer runs on qa; its database is kept" in undeployed.stdout
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/readyz")
    after = oneclick("status").stdout.splitlines()
    assert [line.split()[1] for line in after[1:]] == ["development"]
    again = oneclick("undeploy", "expenses", "--stage", "qa")
    assert again.returncode == 0 and "was not deployed on qa: nothing to do" in again.stdout
    for output in (published, promoted, status, undeployed):
        assert SECRET not in output.stdout + output.stderr


def test_stages_lists_each_stage_block_in_promotion_order(home: Path) -> None:
    result = oneclick("stages")
    assert result.returncode == 0, result.stderr
    names = [line.split()[1] for line in result.stdout.splitlines()]
    assert names[:3] == ["development", "qa", "production"]
    assert "runtime=local" in result.stdout and "database=embedded SQLite" in result.stdout


def test_a_broken_model_fails_with_one_line_per_problem_and_exit_1(
    home: Path, tmp_path: Path
) -> None:
    app = tmp_path / "app.yaml"
    app.write_text("app: Expenses\nentities:\n  - name: Expense\n    attributes: []\n")
    result = oneclick("publish", "app", str(app))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{app}:1:6:" in result.stderr


def test_an_unknown_stage_fails_clearly(home: Path) -> None:
    result = oneclick("publish", "app", str(EXAMPLES / "expenses"), "--stage", "staging")
    assert result.returncode == 1
    assert "error: unknown stage 'staging' (stages: development, qa, production" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_and_status_do_not_import_prefect(oneclick_home: Path) -> None:
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from oneclick.cli.main import cli\n"
        "for args in (['--help'], ['status']):\n"
        "    result = CliRunner().invoke(cli, args)\n"
        "    assert result.exit_code == 0, result.output\n"
        "    print(result.output)\n"
        "assert 'prefect' not in sys.modules, 'prefect was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stderr
    assert "nothing published yet" in result.stdout
