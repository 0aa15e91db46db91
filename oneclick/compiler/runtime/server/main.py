"""The ASGI entry point of a compiled app: ``python -m uvicorn server.main:app``."""

from __future__ import annotations

from .runtime import create_app

app = create_app()
