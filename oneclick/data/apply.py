"""Plan and apply a stage database's schema, in one transaction, one runner at a time.

``plan_schema`` reads only. ``apply_schema`` first reads the recorded fingerprint alone: equal
to the release's, it returns at once (the fast path: no schema scan, no lock). Otherwise it
opens one transaction, takes the database's schema lock (``oneclick.data.engine``), reads
the record again (a runner it waited for may have done the work), plans under the lock, runs
the operations, describes the resulting schema and records it with the new fingerprint. A
failure anywhere rolls everything back: the database is left as it was.

Both report drift (changes made outside oneclick since the last apply) next to the plan; a
plan does so even when the fingerprint matches (it reads the schema; only apply's fast path
skips that), so a republish of an unchanged app still shows what was changed by hand.
"""

from __future__ import annotations

import logging
import time

from alembic.util import CommandError
from pydantic import BaseModel, ConfigDict
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from oneclick.data.changes import SchemaChange
from oneclick.data.drift import drift_on
from oneclick.data.engine import READ_ONLY, access_error, lock_schema, make_engine, read_only
from oneclick.data.fingerprint import read_fingerprint, read_record, write_fingerprint
from oneclick.data.plan import NO_CHANGE, plan_operations, render_script, run_operations
from oneclick.data.snapshot import describe_live_schema, with_model
from oneclick.errors import SchemaError

log = logging.getLogger(__name__)


class SchemaPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    fingerprint: str
    recorded_fingerprint: str | None
    changes: list[SchemaChange]
    script: str
    drift: list[SchemaChange] = []

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
    drift: list[SchemaChange] = []


def _plan(connection: Connection, metadata: MetaData, fingerprint: str) -> SchemaPlan:
    recorded = read_fingerprint(connection)
    if recorded == fingerprint:  # nothing to do; still say what changed outside oneclick
        return SchemaPlan(
            fingerprint=fingerprint,
            recorded_fingerprint=recorded,
            changes=[],
            script=NO_CHANGE,
            drift=drift_on(connection).changes,
        )
    planned = plan_operations(connection, metadata, read_record(connection))
    return SchemaPlan(
        fingerprint=fingerprint,
        recorded_fingerprint=recorded,
        changes=planned.changes,
        script=render_script(planned.upgrade, connection, fingerprint, recorded),
        drift=planned.drift,
    )


def plan_schema(url: str, metadata: MetaData, fingerprint: str) -> SchemaPlan:
    """What applying would change on the database at ``url`` now. Changes nothing."""
    with read_only(url) as connection:
        return _plan(connection, metadata, fingerprint)


def _unchanged(fingerprint: str, started: float) -> SchemaResult:
    return SchemaResult(
        fingerprint=fingerprint,
        changes=[],
        script=NO_CHANGE,
        fast_path=True,
        seconds=time.perf_counter() - started,
    )


def _apply_locked(
    connection: Connection,
    metadata: MetaData,
    fingerprint: str,
    app: str,
    release: str,
    plan: SchemaPlan | None,
) -> SchemaPlan | None:
    """Under the lock: what was done, or None when the fingerprint already matched."""
    lock_schema(connection)
    record = read_record(connection)
    recorded = record.fingerprint if record is not None else None
    if recorded == fingerprint:
        return None
    if plan is not None and recorded != plan.recorded_fingerprint:
        raise SchemaError(
            f"the database of {app} changed since its plan was made (it was at "
            f"{plan.recorded_fingerprint or 'no schema'}, it is at {recorded or 'no schema'}); "
            "nothing was applied: run again to plan against the database as it is now"
        )
    planned = plan_operations(connection, metadata, record)
    script = render_script(planned.upgrade, connection, fingerprint, recorded)
    run_operations(connection, planned.upgrade)
    live = describe_live_schema(connection) if planned.upgrade.ops else planned.live
    write_fingerprint(connection, fingerprint, app, release, with_model(live, metadata))
    return SchemaPlan(
        fingerprint=fingerprint,
        recorded_fingerprint=recorded,
        changes=planned.changes,
        script=script,
        drift=planned.drift,
    )


def _failed(cause: object) -> SchemaError:
    return SchemaError(
        f"the schema script failed and was rolled back, the database is as it was: {cause}; "
        "fix the data it stumbled on (or the model) and publish again"
    )


def apply_schema(
    url: str,
    metadata: MetaData,
    fingerprint: str,
    *,
    app: str,
    release: str,
    plan: SchemaPlan | None = None,
) -> SchemaResult:
    """Bring the database at ``url`` to ``metadata``; record ``fingerprint``. Idempotent.
    Given the ``plan`` shown to people, refuses to run if the database moved since: what
    runs is what was planned."""
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(**READ_ONLY) as connection:
            if read_fingerprint(connection) == fingerprint:
                log.info("schema of %s already at %s", app, fingerprint)
                return _unchanged(fingerprint, started)
        with engine.begin() as connection:
            done = _apply_locked(connection, metadata, fingerprint, app, release, plan)
    except DBAPIError as exc:
        raise access_error(url, exc) or _failed(exc.orig) from exc
    except SchemaError:
        raise
    except (SQLAlchemyError, CommandError) as exc:
        raise _failed(getattr(exc, "orig", None) or exc) from exc
    finally:
        engine.dispose()
    if done is None:
        log.info("schema of %s was brought to %s by another runner", app, fingerprint)
        return _unchanged(fingerprint, started)
    for change in done.drift:
        log.warning("schema of %s changed outside oneclick: %s", app, change)
    for change in done.changes:
        log.info("schema of %s: %s", app, change)
    return SchemaResult(
        fingerprint=fingerprint,
        changes=done.changes,
        script=done.script,
        fast_path=False,
        seconds=time.perf_counter() - started,
        drift=done.drift,
    )
