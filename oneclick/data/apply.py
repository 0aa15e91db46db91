"""Plan and apply a stage database's schema, in one transaction, one runner at a time.

``plan_schema`` reads only. ``apply_schema`` takes the database's write lock (SQLite:
``BEGIN IMMEDIATE``), checks the recorded fingerprint (equal: nothing to do, no schema scan),
plans again under the lock, runs the operations and records the new fingerprint, all in one
transaction: a failure leaves the database as it was.
"""

from __future__ import annotations

import logging
import time

from alembic.operations import Operations, ops
from pydantic import BaseModel, ConfigDict
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from oneclick.data.engine import make_engine
from oneclick.data.fingerprint import read_fingerprint, write_fingerprint
from oneclick.data.plan import SchemaChange, migration_context, plan_operations, render_script
from oneclick.errors import SchemaError, TransientError

log = logging.getLogger(__name__)


class SchemaPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    fingerprint: str
    recorded_fingerprint: str | None
    changes: list[SchemaChange]
    script: str

    @property
    def up_to_date(self) -> bool:
        return self.recorded_fingerprint == self.fingerprint


class SchemaResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    fingerprint: str
    changes: list[SchemaChange]
    script: str
    fast_path: bool
    seconds: float


def _plan(connection: Connection, metadata: MetaData, fingerprint: str) -> SchemaPlan:
    recorded = read_fingerprint(connection)
    if recorded == fingerprint:
        return SchemaPlan(
            fingerprint=fingerprint,
            recorded_fingerprint=recorded,
            changes=[],
            script="# no schema change\n",
        )
    upgrade, changes = plan_operations(connection, metadata)
    return SchemaPlan(
        fingerprint=fingerprint,
        recorded_fingerprint=recorded,
        changes=changes,
        script=render_script(upgrade, connection),
    )


def plan_schema(url: str, metadata: MetaData, fingerprint: str) -> SchemaPlan:
    """What applying would change on the database at ``url`` now. Changes nothing."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return _plan(connection, metadata, fingerprint)
    except OperationalError as exc:
        raise TransientError(f"cannot reach the stage database: {exc.orig}") from exc
    finally:
        engine.dispose()


def _run(connection: Connection, upgrade: ops.UpgradeOps) -> None:
    operations = Operations(migration_context(connection))
    sqlite = connection.dialect.name == "sqlite"
    for op in upgrade.ops:
        if isinstance(op, ops.ModifyTableOps) and sqlite:
            with operations.batch_alter_table(op.table_name) as batch:
                for sub in op.ops:
                    batch.invoke(sub)
        elif isinstance(op, ops.ModifyTableOps):
            for sub in op.ops:
                operations.invoke(sub)
        else:
            operations.invoke(op)


def apply_schema(
    url: str, metadata: MetaData, fingerprint: str, *, app: str, release: str
) -> SchemaResult:
    """Bring the database at ``url`` to ``metadata``; record ``fingerprint``. Idempotent."""
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            if read_fingerprint(connection) == fingerprint:
                log.info("schema of %s already at %s", app, fingerprint)
                return SchemaResult(
                    fingerprint=fingerprint,
                    changes=[],
                    script="# no schema change\n",
                    fast_path=True,
                    seconds=time.perf_counter() - started,
                )
            upgrade, changes = plan_operations(connection, metadata)
            script = render_script(upgrade, connection)
            _run(connection, upgrade)
            write_fingerprint(connection, fingerprint, app, release)
    except OperationalError as exc:
        if "locked" in str(exc.orig) or "could not connect" in str(exc.orig):
            raise TransientError(f"the stage database is busy or unreachable: {exc.orig}") from exc
        raise SchemaError(f"the schema script failed and was rolled back: {exc.orig}") from exc
    except SQLAlchemyError as exc:
        raise SchemaError(f"the schema script failed and was rolled back: {exc}") from exc
    finally:
        engine.dispose()
    for change in changes:
        log.info("schema of %s: %s", app, change)
    return SchemaResult(
        fingerprint=fingerprint,
        changes=changes,
        script=script,
        fast_path=False,
        seconds=time.perf_counter() - started,
    )
