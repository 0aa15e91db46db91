"""Scheduled promotions: pins (an app held on a release of a stage), and who started each
deployment and why when it overrode a freeze.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pins",
        sa.Column("app", sa.String(80), primary_key=True),
        sa.Column("stage", sa.String(80), primary_key=True),
        sa.Column("version", sa.String(120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("pinned_by", sa.Text(), nullable=True),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("started_by", sa.Text(), nullable=True))
        batch.add_column(sa.Column("override", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("override")
        batch.drop_column("started_by")
    op.drop_table("pins")
