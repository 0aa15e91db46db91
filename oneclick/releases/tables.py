"""The catalog's tables (SQLAlchemy ORM). Their schema is managed by the Alembic scripts in
``oneclick/releases/migrations``; change both together."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite keeps no time zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.astimezone(UTC).replace(tzinfo=None) if value else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value else None


class Base(DeclarativeBase):
    pass


class Release(Base):
    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("app", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[str] = mapped_column(String(120))
    build_digest: Mapped[str] = mapped_column(String(80))
    image_digest: Mapped[str] = mapped_column(String(80))
    image_reference: Mapped[str] = mapped_column(Text)
    schema_fingerprint: Mapped[str] = mapped_column(String(80))
    libraries: Mapped[str] = mapped_column(Text, default="[]")
    manifest: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(Text)
    source_revision: Mapped[str | None] = mapped_column(String(80), nullable=True)
    source_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    source_repository: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    deployments: Mapped[list[Deployment]] = relationship(back_populates="release")


class Deployment(Base):
    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), index=True)
    app: Mapped[str] = mapped_column(String(80), index=True)
    stage: Mapped[str] = mapped_column(String(80), index=True)
    phase: Mapped[str] = mapped_column(String(20))
    flow_run_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    schema_script: Mapped[str | None] = mapped_column(Text, nullable=True)
    schema_changes: Mapped[str] = mapped_column(Text, default="[]")
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    config_digest: Mapped[str | None] = mapped_column(String(80), nullable=True)
    started_by: Mapped[str | None] = mapped_column(Text, nullable=True)
    override: Mapped[str | None] = mapped_column(Text, nullable=True)

    release: Mapped[Release] = relationship(back_populates="deployments")


class Lease(Base):
    """Who holds the right to roll out an app on a stage, until when (see ``leases``)."""

    __tablename__ = "rollout_leases"

    app: Mapped[str] = mapped_column(String(80), primary_key=True)
    stage: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    run: Mapped[str] = mapped_column(Text)
    flow_run_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PinRow(Base):
    """An app held on a release of a stage: scheduled promotions leave it alone (see ``pins``)."""

    __tablename__ = "pins"

    app: Mapped[str] = mapped_column(String(80), primary_key=True)
    stage: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text)
    pinned_by: Mapped[str | None] = mapped_column(Text, nullable=True)
    pinned_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeliveryRow(Base):
    """A webhook delivery the relay acted on (see ``oneclick.relay.deliveries``)."""

    __tablename__ = "relay_deliveries"

    provider: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ResultRow(Base):
    """A Prefect result record (see ``oneclick.releases.results``)."""

    __tablename__ = "flow_results"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary())
    written_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
