"""`oneclick check`: a model checked without a server, as a user runs it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support import EXAMPLES, oneclick, without_server

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
    return oneclick("check", str(path), env=without_server(home), timeout=60)


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


def test_a_directory_without_a_model_is_one_clear_line(tmp_path: Path) -> None:
    done = check(tmp_path, tmp_path / "home")
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: {tmp_path} holds neither app.yaml nor library.yaml"


def test_a_new_home_and_what_oneclick_writes_there_are_the_user_s_alone(tmp_path: Path) -> None:
    home = tmp_path / "new" / "home"
    done = oneclick("status", env=without_server(home), timeout=60)
    assert done.returncode == 0, done.stderr
    assert home.stat().st_mode & 0o777 == 0o700
    assert (home / "catalog.db").stat().st_mode & 0o777 == 0o600


def test_a_range_is_checked_against_the_published_versions(tmp_path: Path) -> None:
    from oneclick.compiler import compile_library
    from oneclick.libraries import LibraryStore
    from oneclick.model import MappingCatalog, load_library

    home = tmp_path / "home"
    source = EXAMPLES / "money-formats"
    built = compile_library(load_library(source, MappingCatalog({})), source, tmp_path / "b")
    LibraryStore(home / "libraries").publish(built.path)
    uses = APP.replace(
        "entities:", "libraries:\n  - {name: money-formats, version: ^0.3.0}\nentities:"
    )
    uses = uses.replace(
        "  - {name: Done,", "  - {name: Cur, type: money-formats.Currency}\n      - {name: Done,"
    )
    (tmp_path / "app.yaml").write_text(uses)
    done = check(tmp_path / "app.yaml", home)
    assert done.returncode == 0, done.stdout + done.stderr
    (tmp_path / "app.yaml").write_text(uses.replace("^0.3.0", "~0.4"))
    done = check(tmp_path / "app.yaml", home)
    assert done.returncode == 1
    assert done.stdout.startswith(f"{tmp_path / 'app.yaml'}:4:36: library 'money-formats' has no")
    assert "matching ~0.4; published versions: 0.3.0" in done.stdout
