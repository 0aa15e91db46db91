"""Reading and writing the release catalog.

A release is immutable: (app, version) names one image digest forever; recording the same
release twice is a no-op, recording a different image under a used version is refused.
A deployment records one attempt to run a release on a stage: it starts ``pending``, turns
``running`` when the stage is touched and ends in a terminal phase (``Phase``). Only a
release with a ``succeeded`` deployment on a stage is promotable from it. The catalog's own
schema is brought up to date (Alembic) once per process and URL, when first opened.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session

from oneclick.errors import CatalogError, TransientError
from oneclick.releases.reading import MIGRATIONS, RUNNING, head, running
from oneclick.releases.tables import Deployment, Release
from oneclick.releases.views import DeploymentView, Phase, ReleaseView


def _now() -> datetime:
    return datetime.now(UTC)


def _one_version(app: str, version: str, rows: Sequence[Release]) -> Release:
    """The release named by exact ``version`` or a prefix only one release has."""
    exact = [r for r in rows if r.version == version]
    matches = exact or [r for r in rows if r.version.startswith(version)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        candidates = ", ".join(r.version for r in matches[:10])
        raise CatalogError(
            f"version {version!r} of {app} is ambiguous: it could be {candidates}; "
            "name one of them in full"
        )
    known = ", ".join(r.version for r in rows[:5])
    raise CatalogError(f"version {version!r} of {app} matches no release; recent: {known}")


def _attempt(row: Deployment) -> str:
    """``failed: <why>`` as a person reads it, for the last attempt of a release."""
    return f"{row.phase}" + (f": {row.message.splitlines()[0]}" if row.message else "")


def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _wal(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")

        return engine
    return create_engine(url, pool_pre_ping=True)


_SETTLED = (Phase.SUCCEEDED.value, Phase.UNDEPLOYED.value)
_UNFINISHED = (Phase.PENDING.value, Phase.RUNNING.value)
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _open(url: str) -> Engine:
    """One engine per catalog URL per process, its schema brought up to date once."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engine(url)
            _upgrade(engine)
            _engines[url] = engine
        return engine


def _upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration; a catalog already there costs one query
    (and no Alembic import: commands that only read stay quick)."""
    try:
        with engine.connect() as connection:
            current = connection.scalar(text("SELECT version_num FROM oneclick_catalog_version"))
    except DatabaseError:
        current = None
    if current == head():
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Catalog:
    """The release catalog at a SQLAlchemy URL (SQLite by default)."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = _open(url)
        except OperationalError as exc:
            raise CatalogError(f"cannot open the release catalog at {url}: {exc.orig}") from exc

    @contextmanager
    def _session(self) -> Iterator[Session]:
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
        except OperationalError as exc:
            if "locked" in str(exc.orig):
                raise TransientError(f"the release catalog is busy: {exc.orig}") from exc
            raise CatalogError(f"release catalog error: {exc.orig}") from exc

    def record_release(
        self,
        *,
        manifest: dict[str, Any],
        model: dict[str, Any],
        version: str,
        image_digest: str,
        image_reference: str,
        source_revision: str | None = None,
        source_path: str | None = None,
        source_repository: str | None = None,
    ) -> ReleaseView:
        """Record a release; the same release again is a no-op, a changed one is refused.
        ``source_path`` (in ``source_repository`` when given) is where its model came from."""
        app = manifest["app"]
        with self._session() as session:
            row = session.scalars(
                select(Release).where(Release.app == app, Release.version == version)
            ).one_or_none()
            if row is not None:
                if row.image_digest != image_digest:
                    raise CatalogError(
                        f"{app} {version} is already recorded with image {row.image_digest}, "
                        f"not {image_digest}; a release is immutable: publish a new version"
                    )
                if row.source_path is None and source_path is not None:  # recorded before 0006
                    row.source_path, row.source_repository = source_path, source_repository
                return ReleaseView.of(row)
            row = Release(
                app=app,
                version=version,
                build_digest=manifest["digest"],
                image_digest=image_digest,
                image_reference=image_reference,
                schema_fingerprint=manifest["schema_fingerprint"],
                libraries=json.dumps(manifest.get("libraries", []), sort_keys=True),
                manifest=json.dumps(manifest, sort_keys=True),
                model=json.dumps(model, sort_keys=True),
                source_revision=source_revision,
                source_path=source_path,
                source_repository=source_repository,
                created_at=_now(),
            )
            session.add(row)
            session.flush()
            return ReleaseView.of(row)

    def release(self, app: str, version: str | None = None) -> ReleaseView:
        """A release by exact version or unique prefix; the newest when version is None."""
        with self._session() as session:
            query = select(Release).where(Release.app == app).order_by(Release.id.desc())
            rows: Sequence[Release] = session.scalars(query).all()
            if not rows:
                raise CatalogError(f"no release of {app!r} is recorded: publish it first")
            if version is None:
                return ReleaseView.of(rows[0])
            return ReleaseView.of(_one_version(app, version, rows))

    def releases(self, app: str | None = None) -> list[ReleaseView]:
        """Every release (of ``app``), newest first."""
        with self._session() as session:
            query = select(Release).order_by(Release.id.desc())
            if app is not None:
                query = query.where(Release.app == app)
            return [ReleaseView.of(row) for row in session.scalars(query)]

    def promotable(self, app: str, stage: str, version: str | None = None) -> ReleaseView:
        """What may leave ``stage`` for the next one: the release it runs now, or release
        ``version`` if it succeeded on ``stage`` (a refused or failed attempt never does)."""
        if version is None:
            current = self.current(app, stage)
            if current is None:
                raise CatalogError(
                    f"{app} runs nowhere on {stage!r}: publish it there first, or name --version"
                )
            return self.release(app, current.version)
        release = self.release(app, version)
        with self._session() as session:
            attempts = session.scalars(
                select(Deployment)
                .join(Release)
                .where(Release.app == app, Release.version == release.version)
                .where(Deployment.stage == stage)
                .order_by(Deployment.id.desc())
            ).all()
            if any(row.phase == Phase.SUCCEEDED.value for row in attempts):
                return release
            last = f"; its last attempt there {_attempt(attempts[0])}" if attempts else ""
        raise CatalogError(
            f"{app} {release.version} never succeeded on {stage!r}{last}: only a release that "
            f"succeeded on {stage!r} can leave it; fix it, publish it there, then promote"
        )

    def start_deployment(
        self,
        app: str,
        version: str,
        stage: str,
        flow_run_id: str | None,
        config_digest: str | None = None,
        *,
        started_by: str | None = None,
        override: str | None = None,
    ) -> int:
        """Record a new attempt, ``pending``; returns its id. ``started_by`` says who or what
        started it; ``override`` why it went through a freeze."""
        with self._session() as session:
            release = session.scalars(
                select(Release).where(Release.app == app, Release.version == version)
            ).one()
            row = Deployment(
                release_id=release.id,
                app=app,
                stage=stage,
                phase=Phase.PENDING.value,
                flow_run_id=flow_run_id,
                schema_changes="[]",
                started_at=_now(),
                config_digest=config_digest,
                started_by=started_by,
                override=override,
            )
            session.add(row)
            session.flush()
            return row.id

    def mark_running(self, deployment_id: int) -> None:
        """The attempt is about to touch the stage (its database, its runtime)."""
        with self._session() as session:
            session.get_one(Deployment, deployment_id).phase = Phase.RUNNING.value

    def record_schema(self, deployment_id: int, changes: Sequence[str], script: str) -> None:
        """What the database scripts changed: kept even if the deploy fails afterwards."""
        with self._session() as session:
            row = session.get_one(Deployment, deployment_id)
            row.schema_changes = json.dumps(list(changes))
            row.schema_script = script

    def finish_deployment(
        self,
        deployment_id: int,
        phase: Phase,
        *,
        url: str | None = None,
        message: str | None = None,
    ) -> DeploymentView:
        if not phase.is_terminal():
            raise ValueError(f"{phase} is not a terminal phase")
        with self._session() as session:
            row = session.get_one(Deployment, deployment_id)
            row.phase = phase.value
            row.url = url
            row.message = message
            row.finished_at = _now()
            session.flush()
            return DeploymentView.of(row)

    def abort_unfinished(self, app: str, stage: str, reason: str) -> list[DeploymentView]:
        """Mark every unfinished attempt of ``app`` on ``stage`` aborted. Call it only while
        holding the stage's lease: then no attempt of it can still be running."""
        return self._abort((Deployment.app == app) & (Deployment.stage == stage), reason)

    def abort_run(self, flow_run_id: str, reason: str) -> list[DeploymentView]:
        """Mark the unfinished attempts of one flow run aborted (it crashed or was cancelled)."""
        return self._abort(Deployment.flow_run_id == flow_run_id, reason)

    def _abort(self, where: Any, reason: str) -> list[DeploymentView]:
        with self._session() as session:
            rows = session.scalars(
                select(Deployment).where(where, Deployment.phase.in_(_UNFINISHED))
            ).all()
            now = _now()
            for row in rows:
                row.phase = Phase.ABORTED.value
                row.message = reason
                row.finished_at = now
            session.flush()
            return [DeploymentView.of(row) for row in rows]

    def current(self, app: str, stage: str) -> DeploymentView | None:
        """The last successful deployment of the app on the stage: what it runs now (None
        when it was never deployed there, or undeployed since)."""
        with self._session() as session:
            row = session.scalars(
                select(Deployment)
                .where(
                    Deployment.app == app, Deployment.stage == stage, Deployment.phase.in_(_SETTLED)
                )
                .order_by(Deployment.id.desc())
                .limit(1)
            ).one_or_none()
            return DeploymentView.of(row) if row and row.phase == Phase.SUCCEEDED.value else None

    def previous(self, current: DeploymentView) -> DeploymentView | None:
        """The last successful deployment on ``current``'s stage of a release other than
        ``current``'s: what a rollback returns to (None when there is none). Rolling back
        twice returns to where the first rollback started, as ``kubectl rollout undo`` does."""
        with self._session() as session:
            current_release = session.get_one(Deployment, current.id).release_id
            row = session.scalars(
                select(Deployment)
                .where(
                    Deployment.app == current.app,
                    Deployment.stage == current.stage,
                    Deployment.phase == Phase.SUCCEEDED.value,
                    Deployment.release_id != current_release,
                )
                .order_by(Deployment.id.desc())
                .limit(1)
            ).one_or_none()
            return DeploymentView.of(row) if row else None

    def record_undeploy(self, app: str, stage: str) -> bool:
        """Record that nothing runs of ``app`` on ``stage`` now; False if nothing did."""
        current = self.current(app, stage)
        if current is None:
            return False
        with self._session() as session:
            release = session.scalars(
                select(Release).where(Release.app == app, Release.version == current.version)
            ).one()
            now = _now()
            session.add(
                Deployment(
                    release_id=release.id,
                    app=app,
                    stage=stage,
                    phase=Phase.UNDEPLOYED.value,
                    schema_changes="[]",
                    started_at=now,
                    finished_at=now,
                )
            )
        return True

    def apps(self) -> list[str]:
        """Every app with a release, by name."""
        with self._session() as session:
            return list(session.scalars(select(Release.app).distinct().order_by(Release.app)))

    def deployments(
        self, app: str | None = None, limit: int | None = 100, stage: str | None = None
    ) -> list[DeploymentView]:
        """Most recent first."""
        with self._session() as session:
            query = select(Deployment).order_by(Deployment.id.desc()).limit(limit)
            if app is not None:
                query = query.where(Deployment.app == app)
            if stage is not None:
                query = query.where(Deployment.stage == stage)
            return [DeploymentView.of(row) for row in session.scalars(query)]

    def status(self, app: str | None = None) -> list[DeploymentView]:
        """What each app (or only ``app``) runs on each stage now: its last settled deployment,
        when that succeeded (``oneclick.releases.reading.RUNNING``)."""
        try:
            with self.engine.connect() as connection:
                rows = connection.exec_driver_sql(RUNNING).all()
        except OperationalError as exc:
            raise CatalogError(f"release catalog error: {exc.orig}") from exc
        return [view for view in running(rows) if app in (None, view.app)]
