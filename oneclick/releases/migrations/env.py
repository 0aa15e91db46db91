"""Alembic environment for the release catalog, driven from code (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from oneclick.releases.tables import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    version_table="oneclick_catalog_version",
)
with context.begin_transaction():
    context.run_migrations()
