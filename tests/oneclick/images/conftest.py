"""Hand-made app and library build directories for the image tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from oneclick.images import ImageSpec

APP_MAIN = '''"""A stand-in for a compiled app's server."""

from starlette.applications import Starlette

app = Starlette()
'''


def write_app_build(path: Path, version: str = "1.0.0", note: str = "") -> Path:
    """An app build: manifest.json, server/, client/ (with one executable script)."""
    (path / "server").mkdir(parents=True)
    (path / "client").mkdir()
    manifest = {"kind": "app", "app": "expenses", "version": version, "note": note}
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    (path / "server" / "__init__.py").write_text("")
    (path / "server" / "main.py").write_text(APP_MAIN)
    (path / "client" / "index.html").write_text("<!doctype html><title>Expenses</title>\n")
    (path / "client" / "app.js").write_text("console.log('expenses');\n")
    tool = path / "server" / "run.sh"
    tool.write_text("#!/bin/sh\necho run\n")
    tool.chmod(0o755)
    return path


def write_library_build(path: Path, name: str) -> Path:
    path.mkdir(parents=True)
    manifest = {"kind": "library", "name": name, "version": "1.2.0"}
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    (path / "enums.py").write_text(f"LIBRARY = {name!r}\n")
    (path / "styles.css").write_text("body { color: black; }\n")
    return path


@pytest.fixture
def make_spec(tmp_path: Path) -> Callable[..., ImageSpec]:
    """Build inputs under ``tmp_path/<where>`` and return the spec naming them."""

    def make(
        where: str = "inputs", version: str = "1.0.0", note: str = "", repository: str = "expenses"
    ) -> ImageSpec:
        base = tmp_path / where
        app = write_app_build(base / "app", version, note)
        libraries = [
            ("money-formats", write_library_build(base / "money", "money-formats")),
            ("finance-common", write_library_build(base / "finance", "finance-common")),
        ]
        return ImageSpec(
            repository=repository,
            tag=version,
            app_build=app,
            library_builds=libraries,
            labels={"org.opencontainers.image.version": version},
            env={"ONECLICK_SETTING_CurrencySymbol": "EUR"},
        )

    return make
