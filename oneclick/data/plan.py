"""Plan a stage database's schema change: compare, apply the policy, render a script.

Alembic compares the model's tables with the live schema and produces operations. The
policy keeps what is safe and additive, and never drops data:

- new table, new column, new index: applied (a new mandatory column on a table with rows
  needs a default, else the plan is refused);
- a column or table the model no longer has: kept, reported as retired (a retired column
  that was mandatory is made nullable so inserts keep working);
- a mandatory attribute made optional: applied;
- anything else (type changes, optional → mandatory, constraint changes): refused before
  anything runs, naming table, column and what to do.

The result is an ``UpgradeOps`` that plain Alembic could run, rendered as Python for people.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import produce_migrations, render_python_code
from alembic.migration import MigrationContext
from alembic.operations import ops
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Column, MetaData, select, table, text
from sqlalchemy.engine import Connection

from oneclick.data.fingerprint import TABLE_NAME
from oneclick.errors import SchemaError


class SchemaChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str  # create table | add column | add index | relax | retire column | retire table
    table: str
    column: str | None = None
    detail: str = ""

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return f"{self.kind} {where}" + (f" ({self.detail})" if self.detail else "")


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "table" and name is not None and name.startswith(("oneclick_", "alembic")))


def migration_context(connection: Connection) -> MigrationContext:
    return MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_object": _include,
            "render_as_batch": connection.dialect.name == "sqlite",
        },
    )


def _default_literal(column: Column[Any]) -> str | None:
    if column.server_default is not None or column.default is None:
        return None
    value = getattr(column.default, "arg", None)
    if isinstance(value, bool):
        return "1" if value else "0"
    return None if value is None or callable(value) else str(value)


def _has_rows(connection: Connection, name: str) -> bool:
    return (
        connection.execute(select(text("1")).select_from(table(name)).limit(1)).first() is not None
    )


class _Policy:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.changes: list[SchemaChange] = []
        self.refusals: list[str] = []

    def top(self, op: ops.MigrateOperation) -> ops.MigrateOperation | None:
        if isinstance(op, ops.CreateTableOp):
            self.changes.append(SchemaChange(kind="create table", table=op.table_name))
            return op
        if isinstance(op, ops.CreateIndexOp):
            self.changes.append(
                SchemaChange(kind="add index", table=op.table_name, detail=op.index_name or "")
            )
            return op
        if isinstance(op, ops.DropTableOp):
            self.changes.append(
                SchemaChange(kind="retire table", table=op.table_name, detail="kept with its rows")
            )
            return None
        if isinstance(op, ops.DropIndexOp):
            return None  # an index the model no longer declares costs nothing to keep
        if isinstance(op, ops.ModifyTableOps):
            kept = [
                k for k in (self.column_op(op.table_name, sub) for sub in op.ops) if k is not None
            ]
            return ops.ModifyTableOps(op.table_name, kept) if kept else None
        self.refusals.append(f"unsupported schema change: {op!r}")
        return None

    def column_op(self, table_name: str, op: ops.MigrateOperation) -> ops.MigrateOperation | None:
        if isinstance(op, ops.AddColumnOp):
            return self.add_column(op)
        if isinstance(op, ops.DropColumnOp):
            column = op.to_column()
            self.changes.append(
                SchemaChange(
                    kind="retire column", table=table_name, column=op.column_name, detail="kept"
                )
            )
            if column.nullable:
                return None
            return ops.AlterColumnOp(
                table_name,
                op.column_name,
                modify_nullable=True,
                existing_type=column.type,
                existing_nullable=False,
            )
        if isinstance(op, ops.AlterColumnOp):
            return self.alter_column(op)
        if isinstance(op, (ops.CreateIndexOp, ops.DropIndexOp)):
            return self.top(op)
        self.refusals.append(f"{table_name}: unsupported schema change {type(op).__name__}")
        return None

    def add_column(self, op: ops.AddColumnOp) -> ops.AddColumnOp | None:
        column = op.column
        default = _default_literal(column)
        if default is not None:
            column = Column(
                column.name, column.type, nullable=column.nullable, server_default=default
            )
        if (
            not column.nullable
            and column.server_default is None
            and _has_rows(self.connection, op.table_name)
        ):
            self.refusals.append(
                f"{op.table_name}.{column.name}: a new mandatory attribute on a table with rows "
                "needs a default; give it one in the model, or make it optional first"
            )
            return None
        self.changes.append(
            SchemaChange(
                kind="add column", table=op.table_name, column=column.name, detail=str(column.type)
            )
        )
        return ops.AddColumnOp(op.table_name, column)

    def alter_column(self, op: ops.AlterColumnOp) -> ops.AlterColumnOp | None:
        where = f"{op.table_name}.{op.column_name}"
        if op.modify_type is not None:
            self.refusals.append(
                f"{where}: changing the type from {op.existing_type} to {op.modify_type} is not "
                "supported yet; add a new attribute and move the data instead"
            )
            return None
        if op.modify_nullable is False:
            self.refusals.append(
                f"{where}: making an optional attribute mandatory could break existing rows; "
                "keep it optional"
            )
            return None
        if op.modify_nullable is True:
            self.changes.append(
                SchemaChange(
                    kind="relax", table=op.table_name, column=op.column_name, detail="now optional"
                )
            )
            return op
        return None  # default or comment changes alone have no effect on data


def plan_operations(
    connection: Connection, metadata: MetaData
) -> tuple[ops.UpgradeOps, list[SchemaChange]]:
    """Compare, then apply the policy. Raises SchemaError listing every refused change."""
    script = produce_migrations(migration_context(connection), metadata)
    assert script.upgrade_ops is not None
    policy = _Policy(connection)
    kept = [k for k in (policy.top(op) for op in script.upgrade_ops.ops) if k is not None]
    if policy.refusals:
        raise SchemaError(
            "the schema change is refused, nothing was applied:\n  " + "\n  ".join(policy.refusals)
        )
    return ops.UpgradeOps(ops=kept), policy.changes


def render_script(upgrade: ops.UpgradeOps, connection: Connection) -> str:
    if not upgrade.ops:
        return "# no schema change\n"
    return render_python_code(
        upgrade,
        render_as_batch=connection.dialect.name == "sqlite",
        migration_context=migration_context(connection),
    )


__all__ = ["TABLE_NAME", "SchemaChange", "plan_operations", "render_script"]
