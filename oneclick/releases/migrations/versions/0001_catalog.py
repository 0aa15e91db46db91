"""The release catalog: releases and deployments.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("app", sa.String(80), nullable=False, index=True),
        sa.Column("version", sa.String(120), nullable=False),
        sa.Column("build_digest", sa.String(80), nullable=False),
        sa.Column("image_digest", sa.String(80), nullable=False),
        sa.Column("image_reference", sa.Text(), nullable=False),
        sa.Column("schema_fingerprint", sa.String(80), nullable=False),
        sa.Column("libraries", sa.Text(), nullable=False),
        sa.Column("manifest", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("source_revision", sa.String(80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("app", "version"),
    )
    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("release_id", sa.Integer(), sa.ForeignKey("releases.id"), index=True),
        sa.Column("app", sa.String(80), nullable=False, index=True),
        sa.Column("stage", sa.String(80), nullable=False, index=True),
        sa.Column("phase", sa.String(20), nullable=False),
        sa.Column("flow_run_id", sa.String(80), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("schema_script", sa.Text(), nullable=True),
        sa.Column("schema_changes", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("deployments")
    op.drop_table("releases")
