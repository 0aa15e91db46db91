"""Load an app or a library model from disk, checked as a whole.

``load_app(path, libraries)`` and ``load_library(path, libraries)`` accept the model file
itself or the directory holding it (``app.yaml`` / ``library.yaml``). They answer a valid,
fully checked model or raise ``ModelError`` listing every problem as ``file:line:column:
message``, where ``file`` is the path as the caller gave it (with the file name added when a
directory was given). Published libraries are looked up through ``libraries``
(a ``LibraryCatalog``, such as ``oneclick.libraries.LibraryStore``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from oneclick.errors import ModelError, Problem
from oneclick.model.catalog import LibraryCatalog
from oneclick.model.checks import check_app, check_library
from oneclick.model.source import Source, load_source
from oneclick.model.types import AppModel, LibraryModel

APP_FILE = "app.yaml"
LIBRARY_FILE = "library.yaml"
_KINDS = {"app": "an app", "library": "a library"}

logger = logging.getLogger(__name__)


def load_app(path: Path, libraries: LibraryCatalog) -> AppModel:
    """The checked app model at ``path`` (``app.yaml`` or its directory)."""
    source = _load(path, APP_FILE, LIBRARY_FILE)
    _refuse_other_kind(source, expected="app", other="library")
    app = check_app(source, libraries)
    logger.info("loaded app %s %s from %s", app.app, app.version, source.file)
    return app


def load_library(path: Path, libraries: LibraryCatalog) -> LibraryModel:
    """The checked library model at ``path`` (``library.yaml`` or its directory)."""
    source = _load(path, LIBRARY_FILE, APP_FILE)
    _refuse_other_kind(source, expected="library", other="app")
    library = check_library(source, libraries, model_file(path, LIBRARY_FILE).parent)
    logger.info("loaded library %s %s from %s", library.library, library.version, source.file)
    return library


def model_file(path: Path, name: str) -> Path:
    """``path`` itself, or ``path/name`` when ``path`` is a directory."""
    return path / name if path.is_dir() else path


def _load(path: Path, name: str, other_name: str) -> Source:
    file_path = model_file(path, name)
    file = str(file_path)
    if not file_path.exists():
        if path.is_dir() and (path / other_name).exists():
            kind = _KINDS["app" if other_name == APP_FILE else "library"]
            hint = f"this directory holds {other_name}, which is {kind}: publish it as one"
        else:
            hint = f"give the {name} file or the directory that holds it"
        raise ModelError([Problem(file, 1, 1, f"no such file; {hint}")])
    if file_path.is_dir():
        raise ModelError([Problem(file, 1, 1, f"expected a file, found a directory; {name}?")])
    return load_source(file_path, file)


def _refuse_other_kind(source: Source, *, expected: str, other: str) -> None:
    """A model of the other kind gets one clear problem instead of many unknown keys."""
    if other in source.data and expected not in source.data:
        line, column = source.marks.position((other,), at_key=True)
        message = (
            f"this is {_KINDS[other]} model (it has '{other}:'), expected {_KINDS[expected]} "
            f"model with '{expected}:'; publish it as {_KINDS[other]}"
        )
        raise ModelError([Problem(source.file, line, column, message)])
