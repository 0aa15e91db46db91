"""The compiler: library model → library build; app model + library builds → app build.

Builds are deterministic (the same inputs give byte-identical files) and described by a
``manifest.json`` carrying the content digest (``digest.content_digest``). The app build is
a working web app: a Starlette server over SQLAlchemy (``server/``) and a plain HTML, CSS
and JavaScript client (``static/``). ``schema.app_metadata`` gives the data tool the same
tables the server uses.
"""

from __future__ import annotations

from oneclick.compiler.app import compile_app
from oneclick.compiler.digest import content_digest
from oneclick.compiler.library import compile_library
from oneclick.compiler.output import CompileResult
from oneclick.compiler.schema import app_metadata, metadata_fingerprint, schema_fingerprint

__all__ = [
    "CompileResult",
    "app_metadata",
    "compile_app",
    "compile_library",
    "content_digest",
    "metadata_fingerprint",
    "schema_fingerprint",
]
