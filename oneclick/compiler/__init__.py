"""The compiler: library model → library build; app model + library builds → app build.

Builds are deterministic (the same inputs give byte-identical files) and described by a
``manifest.json`` carrying the content digest (``digest.content_digest``). The app build is
a working web app: a Starlette server over SQLAlchemy (``server/``) and a plain HTML, CSS
and JavaScript client (``static/``). ``schema.app_metadata`` gives the data tool the same
tables the server uses. The names are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oneclick.lazy import lazy_exports

if TYPE_CHECKING:
    from oneclick.compiler.app import compile_app as compile_app
    from oneclick.compiler.digest import content_digest as content_digest
    from oneclick.compiler.library import compile_library as compile_library
    from oneclick.compiler.output import CompileResult as CompileResult
    from oneclick.compiler.schema import app_metadata as app_metadata
    from oneclick.compiler.schema import metadata_fingerprint as metadata_fingerprint
    from oneclick.compiler.schema import schema_fingerprint as schema_fingerprint

_WHERE = {
    "CompileResult": "output",
    "app_metadata": "schema",
    "compile_app": "app",
    "compile_library": "library",
    "content_digest": "digest",
    "metadata_fingerprint": "schema",
    "schema_fingerprint": "schema",
}
__all__ = sorted(_WHERE)
__getattr__ = lazy_exports(__name__, _WHERE)
