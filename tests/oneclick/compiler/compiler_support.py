"""Helpers for the compiler tests: load models, compile builds, run a compiled app for real.

An image-like root holds ``<root>/app`` (the app build) and ``<root>/libs/<name>`` (each
library build); the app runs there as ``python -m uvicorn --app-dir <root>/app
server.main:app`` on a free port of 127.0.0.1, against a SQLite file whose tables come from
``app_metadata`` and whose ``oneclick_schema`` row is written here, per the contract, or
whose schema the data tool applies release by release (``apply_release``), as a stage's is.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, text

from oneclick.compiler import app_metadata, compile_app, compile_library, schema_fingerprint
from oneclick.data import apply_schema
from oneclick.libraries.build import LibraryBuild
from oneclick.model.types import AppModel, LibraryModel

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
LIBRARY_CHAIN = ("money-formats", "finance-common")

_schema_metadata = MetaData()
SCHEMA_TABLE = Table(
    "oneclick_schema",
    _schema_metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("fingerprint", String(80)),
    Column("app", String(80)),
    Column("release", String(120)),
    Column("applied_at", String(40)),
)


def app_model(source: str | Path) -> AppModel:
    """An app model from a YAML file path or from YAML text."""
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    return AppModel.model_validate(yaml.safe_load(text))


def library_model(source: str | Path) -> LibraryModel:
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    return LibraryModel.model_validate(yaml.safe_load(text))


def example_app() -> AppModel:
    return app_model(EXAMPLES / "expenses" / "app.yaml")


def compile_example_libraries(libs_dir: Path) -> list[LibraryBuild]:
    """Compile money-formats and finance-common into ``libs_dir/<name>``."""
    builds = []
    for name in LIBRARY_CHAIN:
        source = EXAMPLES / name
        result = compile_library(library_model(source / "library.yaml"), source, libs_dir / name)
        builds.append(LibraryBuild.from_directory(result.path))
    return builds


def build_root(
    root: Path, model: AppModel, libraries: Sequence[tuple[LibraryModel, Path]] | None = None
) -> Path:
    """An image-like root: ``root/app``, ``root/libs/<name>`` (default: the example libraries)."""
    if libraries is None:
        builds = compile_example_libraries(root / "libs")
    else:
        builds = [
            LibraryBuild.from_directory(
                compile_library(lib, source, root / "libs" / lib.library).path
            )
            for lib, source in libraries
        ]
    compile_app(model, builds, root / "app")
    return root


def create_database(url: str, model: AppModel, fingerprint: str | None) -> None:
    """The app's tables; plus the ``oneclick_schema`` row when ``fingerprint`` is given."""
    engine = create_engine(url)
    app_metadata(model).create_all(engine)
    if fingerprint is not None:
        write_fingerprint(url, fingerprint)
    engine.dispose()


def write_fingerprint(url: str, fingerprint: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        _schema_metadata.create_all(connection)
        connection.execute(SCHEMA_TABLE.delete())
        connection.execute(
            SCHEMA_TABLE.insert().values(
                id=1, fingerprint=fingerprint, app="test", release="0", applied_at="now"
            )
        )
    engine.dispose()


def apply_release(url: str, model: AppModel) -> None:
    """Bring the database to ``model`` with the data tool, as a publish does."""
    fingerprint = schema_fingerprint(model)
    apply_schema(url, app_metadata(model), fingerprint, app=model.app, release=model.version)


def reset_database(url: str) -> None:
    """Drop every table (``oneclick_schema`` too): the database is empty again."""
    engine = create_engine(url)
    live = MetaData()
    live.reflect(engine)
    live.drop_all(engine)
    engine.dispose()


def execute(url: str, *statements: str) -> None:
    """Run SQL by hand, in one transaction: a change made outside oneclick."""
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningApp:
    url: str
    client: httpx.Client
    log: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def run_app(root: Path, env: dict[str, str]) -> Iterator[RunningApp]:
    """Start the compiled app under ``root`` with ``env``; stop it afterwards."""
    port = free_port()
    log = root / f"server-{port}.log"
    command = [
        sys.executable, "-m", "uvicorn", "--app-dir", str(root / "app"), "server.main:app",
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    base_env = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"}
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            command, env={**base_env, **env}, stdout=sink, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=url, timeout=10)
    try:
        _wait_until_up(client, process, log)
        yield RunningApp(url, client, log, process)
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(client: httpx.Client, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the app exited with {process.returncode}:\n{log.read_text()}")
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the app did not answer /healthz in time:\n{log.read_text()}")


def load_module(path: Path, name: str) -> ModuleType:
    """A generated Python file, imported by path (the way the server loads library enums)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tree_bytes(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` by relative posix path."""
    return {
        f.relative_to(path).as_posix(): f.read_bytes()
        for f in sorted(path.rglob("*"))
        if f.is_file()
    }


ALL_TYPES_APP = """
app: inventory
title: Inventory
version: 2.0.0
libraries:
  - {name: money-formats, version: 0.3.0}
entities:
  - name: Warehouse
    attributes:
      - {name: Code, type: text, mandatory: true}
      - {name: Phone, type: phone}
      - {name: Capacity, type: long}
      - {name: Parent, type: Warehouse}
    indexes:
      - {attributes: [Code], unique: true}
  - name: Order
    attributes:
      - {name: Quantity, type: integer, mandatory: true, default: 1}
      - {name: Price, type: decimal, default: 9.95}
      - {name: Currency, type: money-formats.Currency, default: EUR}
      - {name: PlacedAt, type: datetime}
      - {name: DueOn, type: date, default: "2030-01-01"}
      - {name: Rush, type: boolean}
      - {name: Contact, type: email}
      - {name: From, type: Warehouse, mandatory: true}
    indexes:
      - {attributes: [PlacedAt, Rush]}
screens:
  - {name: Orders, kind: list, entity: Order}
  - {name: EditOrder, kind: form, entity: Order, title: Order}
  - {name: Warehouses, kind: list, entity: Warehouse}
settings:
  - {name: MaxQuantity, type: integer, default: 100}
  - {name: Open, type: boolean, default: true}
  - {name: Launch, type: date, default: "2030-01-01"}
  - {name: Rate, type: decimal}
  - {name: Contact, type: email}
secrets:
  - {name: Token}
"""


def all_types_app() -> AppModel:
    return app_model(ALL_TYPES_APP)


def money_formats() -> tuple[LibraryModel, Path]:
    source = EXAMPLES / "money-formats"
    return library_model(source / "library.yaml"), source


NODE = shutil.which("node")
_NODE_PROGRAM = r"""
const vm = require("vm");
const fs = require("fs");
const window = {};
const context = vm.createContext({ window: window });
for (const file of process.argv.slice(1)) {
  vm.runInContext(fs.readFileSync(file, "utf8"), context, { filename: file });
}
const libs = window.OneclickLibs || {};
const frozen = {};
for (const name of Object.keys(libs)) {
  frozen[name] = Object.isFrozen(libs[name]) && Object.values(libs[name]).every(Object.isFrozen);
}
process.stdout.write(JSON.stringify({ libs: libs, frozen: frozen, model: window.OneclickModel }));
"""


def run_scripts(*scripts: Path) -> dict[str, Any]:
    """Run browser scripts in node with a bare ``window``; what they left on it, as JSON."""
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", _NODE_PROGRAM, *map(str, scripts)],
        capture_output=True,
        check=True,
        text=True,
        timeout=30,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


HOSTILE_TEXT = 'Tom\'s "best" </script><script>alert(1)</script> \\ & \u2028 <b>x</b>'
HOSTILE_SCREEN_TITLE = '</title><script>alert("t")</script>'
HOSTILE_FORM_TITLE = '"onmouseover="alert(1)\' `x` ${y}'
HOSTILE_DEFAULT = "'''\"\"\"; import os \\n </script> \\"
HOSTILE_LIBRARY = f"""
library: odd-labels
version: 1.0.0
title: {json.dumps(HOSTILE_TEXT)}
static_entities:
  - name: Kind
    records:
      - {{key: None, label: {json.dumps(HOSTILE_TEXT)}}}
      - {{key: class, label: "class"}}
"""
HOSTILE_APP = f"""
app: odd-app
title: {json.dumps(HOSTILE_TEXT)}
libraries:
  - {{name: odd-labels, version: 1.0.0}}
entities:
  - name: Note
    attributes:
      - {{name: Text, type: text, length: 200, default: {json.dumps(HOSTILE_DEFAULT)}}}
      - {{name: Kind, type: odd-labels.Kind}}
screens:
  - {{name: Notes, kind: list, entity: Note, title: {json.dumps(HOSTILE_SCREEN_TITLE)}}}
  - {{name: EditNote, kind: form, entity: Note, title: {json.dumps(HOSTILE_FORM_TITLE)}}}
settings:
  - {{name: Greeting, type: text, default: {json.dumps(HOSTILE_DEFAULT)}}}
secrets:
  - {{name: Key}}
"""


def build_hostile_root(root: Path) -> tuple[AppModel, Path]:
    """The hostile app and library, compiled into an image-like root."""
    source = root / "odd-source"
    source.mkdir(parents=True)
    model = app_model(HOSTILE_APP)
    build_root(root, model, [(library_model(HOSTILE_LIBRARY), source)])
    return model, root


class Page(HTMLParser):
    """What a test needs from an HTML page: texts by element, links, scripts, attributes."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: dict[str, list[str]] = {}
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.icons: list[str] = []
        self.links: list[tuple[str, str]] = []
        self.current: list[str] = []
        self.attributes: dict[str, dict[str, str | None]] = {}
        self._open: list[str] = []
        self._href: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.attributes.setdefault(tag, found)
        if tag == "script" and found.get("src"):
            self.scripts.append(str(found["src"]))
        if tag == "link" and found.get("rel") == "stylesheet":
            self.stylesheets.append(str(found["href"]))
        if tag == "link" and found.get("rel") == "icon":
            self.icons.append(str(found["href"]))
        if tag == "a":
            self._href = str(found.get("href"))
            if found.get("aria-current") == "page":
                self.current.append(self._href)
        if tag not in ("meta", "link"):
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if not self._open:
            return
        self.texts.setdefault(self._open[-1], []).append(data)
        if self._open[-1] == "a" and self._href is not None:
            self.links.append((self._href, data))
