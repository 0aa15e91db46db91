"""`oneclick check`: a model checked without a server, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import EXAMPLES

APP = """\
app: notes
version: 1.0.0
entities:
  - name: Note
    attributes:
      - {name: Title, type: text, length: 80, default: No}
      - {name: Done, type: boolean, default: false}
screens:
  - {name: Notes, kind: list, entity: Note}
"""


def check(path: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return subprocess.run(
        [sys.executable, "-m", "oneclick.cli", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "ONECLICK_HOME": str(home)},
    )


def test_a_valid_model_passes_and_no_is_text(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "app.yaml").write_text(APP)
    done = check(tmp_path / "notes", tmp_path / "home")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "app notes 1.0.0: no problems" in done.stdout
    library = check(EXAMPLES / "money-formats", tmp_path / "home")
    assert library.returncode == 0 and "library money-formats 0.3.0" in library.stdout


def test_every_problem_is_printed_at_its_place_and_exits_1(tmp_path: Path) -> None:
    broken = APP.replace("type: boolean, default: false", "type: boolean, default: maybe")
    broken = broken.replace("entity: Note}", "entity: Nothing}")
    (tmp_path / "app.yaml").write_text(broken)
    done = check(tmp_path / "app.yaml", tmp_path / "home")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) == 2, done.stdout
    assert lines[0].startswith(f"{tmp_path / 'app.yaml'}:7:") and "true or false" in lines[0]
    assert lines[1].startswith(f"{tmp_path / 'app.yaml'}:9:") and "Nothing" in lines[1]
    assert "2 problems" in done.stderr


def test_a_directory_without_a_model_is_a_usage_error(tmp_path: Path) -> None:
    done = check(tmp_path, tmp_path / "home")
    assert done.returncode == 2
    assert "holds neither app.yaml nor library.yaml" in done.stderr
