"""Plan a stage database's schema change: compare, apply the policy, render, run.

``plan_operations`` describes the live schema once (for drift and renames), resolves the
model's rename hints (``oneclick.data.renames``), lets Alembic compare the (renamed-back)
model with the live schema, and passes every operation through the policy
(``oneclick.data.policy``). A refused change raises ``SchemaError`` listing every refusal,
before anything runs. The result is an ``UpgradeOps`` that plain Alembic can run;
``render_script`` writes it as an Alembic migration module and ``run_operations`` runs it on
a connection (SQLite: batch mode per table).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alembic.autogenerate import produce_migrations, render_python_code
from alembic.migration import MigrationContext
from alembic.operations import Operations, ops
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from oneclick.data.changes import SchemaChange
from oneclick.data.drift import compare_snapshots, indexes_made_outside
from oneclick.data.fingerprint import TABLE_NAME, SchemaRecord
from oneclick.data.policy import Policy
from oneclick.data.renames import rename_operations, renamed_back, resolve_renames
from oneclick.data.snapshot import (
    RESERVED_PREFIXES,
    Snapshot,
    describe_live_schema,
    retired_before,
)
from oneclick.data.sqlite_ops import NO_FOLLOWING, RetypeColumnsOp
from oneclick.errors import SchemaError

NO_CHANGE = "# no schema change\n"


@dataclass(frozen=True)
class PlannedSchema:
    upgrade: ops.UpgradeOps
    changes: list[SchemaChange]
    drift: list[SchemaChange]
    live: Snapshot  # the schema as it was before the plan


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "table" and name is not None and name.startswith(RESERVED_PREFIXES))


def migration_context(connection: Connection) -> MigrationContext:
    return MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_object": _include,
            "render_as_batch": connection.dialect.name == "sqlite",
        },
    )


def _refuse(problems: list[str]) -> SchemaError:
    return SchemaError(
        "the schema change is refused, nothing was applied:\n  " + "\n  ".join(problems)
    )


def plan_operations(
    connection: Connection, metadata: MetaData, record: SchemaRecord | None = None
) -> PlannedSchema:
    """Compare, resolve renames, apply the policy. Raises SchemaError listing every refusal."""
    live = describe_live_schema(connection)
    recorded = record.live_schema if record is not None else None
    drift = compare_snapshots(recorded, live) if recorded is not None else []
    columns = {name: list(spec["columns"]) for name, spec in live["tables"].items()}
    renames = resolve_renames(columns, metadata)
    if renames.problems:
        raise _refuse(renames.problems)
    compared = renamed_back(metadata, renames)
    script = produce_migrations(migration_context(connection), compared)
    assert script.upgrade_ops is not None
    policy = Policy(
        connection, compared, indexes_made_outside(recorded, live), retired_before(recorded)
    )
    kept = policy.decide(list(script.upgrade_ops.ops))
    if policy.refusals:
        raise _refuse(policy.refusals)
    rename_ops, rename_changes = rename_operations(renames, metadata)
    return PlannedSchema(
        upgrade=ops.UpgradeOps(ops=kept + rename_ops),
        changes=policy.changes + rename_changes,
        drift=drift,
        live=live,
    )


def _revision(fingerprint: str | None) -> str | None:
    return fingerprint.removeprefix("sha256:")[:12] if fingerprint else None


def render_script(
    upgrade: ops.UpgradeOps,
    connection: Connection,
    fingerprint: str = "",
    recorded: str | None = None,
) -> str:
    """An Alembic migration module (``upgrade()``) for ``upgrade``; plain Alembic runs it."""
    if not upgrade.ops:
        return NO_CHANGE
    body = render_python_code(
        upgrade,
        render_as_batch=connection.dialect.name == "sqlite",
        migration_context=migration_context(connection),
    )
    lines = [
        f'"""Bring a {connection.dialect.name} database to the schema of a release.',
        "",
        f"From: {recorded or 'no recorded schema'}",
        f"To:   {fingerprint or 'an unrecorded schema'}",
        "",
        "Written by oneclick. Nothing is dropped, so there is no downgrade: roll back by",
        "deploying the previous release, which runs on this schema too.",
        '"""',
        "",
        "import sqlalchemy as sa",
        "from alembic import op",
        "",
        f"revision = {_revision(fingerprint)!r}",
        f"down_revision = {_revision(recorded)!r}",
        "branch_labels = None",
        "depends_on = None",
        "",
        "",
        "def upgrade() -> None:",
        "    " + body.strip("\n"),
        "",
        "",
        "def downgrade() -> None:",
        "    pass",
        "",
    ]
    return "\n".join(lines)


def run_operations(connection: Connection, upgrade: ops.UpgradeOps) -> None:
    """Run ``upgrade`` on ``connection`` inside its transaction (SQLite: batch per table)."""
    operations = Operations(migration_context(connection))
    sqlite = connection.dialect.name == "sqlite"
    for op in upgrade.ops:
        if isinstance(op, RetypeColumnsOp):
            op.run(operations)
        elif isinstance(op, ops.ModifyTableOps) and sqlite:
            with operations.batch_alter_table(op.table_name, reflect_kwargs=NO_FOLLOWING) as batch:
                for sub in op.ops:
                    batch.invoke(sub)
        elif isinstance(op, ops.ModifyTableOps):
            for sub in op.ops:
                operations.invoke(sub)
        else:
            operations.invoke(op)


__all__ = [
    "NO_CHANGE",
    "TABLE_NAME",
    "PlannedSchema",
    "SchemaChange",
    "plan_operations",
    "render_script",
    "run_operations",
]
