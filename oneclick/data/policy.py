"""The safety policy: which of Alembic's operations run, which are changed, which are refused.

Nothing that holds data is ever dropped:

- new table, column, index: applied. A new mandatory column on a table with rows needs a
  default (it fills the rows), else refused. A new reference gets a named foreign key.
- a column or table the model no longer has: kept, reported as retired (once: what an
  earlier apply retired is not reported again); a retired column that was mandatory is made
  nullable so inserts keep working.
- type changes: widening ones applied (``oneclick.data.widening``); lossy ones refused,
  naming table, column, entity, attribute, both types, why and what to do. On SQLite they
  run as ``RetypeColumnsOp`` (values copied unchanged).
- mandatory → optional: applied; optional → mandatory: applied when no row lacks a value
  (a primary key's reflected nullability is ignored).
- indexes the model no longer declares: dropped when oneclick made them (an index holds no
  data; a unique one would refuse rows the app now accepts); indexes made outside oneclick
  are left alone.
- a column that becomes, stops being, or changes which entity it is a reference: refused.

``Policy.decide`` returns the operations to run and collects ``changes`` and ``refusals``.
"""

from __future__ import annotations

from typing import Any

from alembic.operations import ops
from sqlalchemy import Column, MetaData, func, select, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql import column as sql_column
from sqlalchemy.types import to_instance

from oneclick.data.changes import SchemaChange
from oneclick.data.sqlite_ops import RetypeColumnsOp, date_to_datetime_sql, retyped_column
from oneclick.data.widening import judge_type_change, kind_of

FOREIGN_KEY_NAME_LIMIT = 63


def default_literal(column: Column[Any]) -> str | None:
    """The model default of ``column`` as SQL text for a server default, if it has one."""
    value = getattr(column.default, "arg", None)
    if isinstance(value, bool):
        return "1" if value else "0"
    return None if value is None or callable(value) else str(value)


def foreign_key_name(table_name: str, column: str) -> str:
    """PostgreSQL's own naming for a one-column foreign key, also used on SQLite."""
    return f"{table_name}_{column}_fkey"[:FOREIGN_KEY_NAME_LIMIT]


class Policy:
    def __init__(
        self,
        connection: Connection,
        metadata: MetaData,
        outside_indexes: set[tuple[str, str]],
        retired: set[tuple[str, str | None]] | None = None,
    ) -> None:
        self.connection = connection
        self.retired = retired or set()  # retired by an earlier apply: kept, not reported again
        self.metadata = metadata
        self.sqlite = connection.dialect.name == "sqlite"
        self.outside_indexes = outside_indexes
        self.changes: list[SchemaChange] = []
        self.refusals: list[str] = []

    # -- naming -------------------------------------------------------------------------
    def model_name(self, table_name: str, column: str | None = None) -> str:
        """``Entity`` or ``Entity.Attribute``: the model's names where the model has them."""
        spec = self.metadata.tables.get(table_name)
        entity = spec.info.get("entity", table_name) if spec is not None else table_name
        if column is None:
            return f"entity {entity}"
        found = spec.c.get(column) if spec is not None else None
        attribute = found.info.get("attribute", column) if found is not None else column
        return f"{entity}.{attribute}"

    def where(self, table_name: str, column: str | None = None) -> str:
        """``table.column: Entity.Attribute``."""
        place = f"{table_name}.{column}" if column else table_name
        return f"{place}: {self.model_name(table_name, column)}"

    def note(self, kind: str, table_name: str, column: str | None = None, detail: str = "") -> None:
        self.changes.append(SchemaChange(kind=kind, table=table_name, column=column, detail=detail))

    # -- data checks --------------------------------------------------------------------
    def has_rows(self, table_name: str) -> bool:
        query = select(text("1")).select_from(table(table_name)).limit(1)
        return self.connection.execute(query).first() is not None

    def count_nulls(self, table_name: str, column: str) -> int:
        target = table(table_name, sql_column(column))
        query = select(func.count()).select_from(target).where(target.c[column].is_(None))
        return int(self.connection.execute(query).scalar_one())

    # -- top level ------------------------------------------------------------------------
    def decide(self, operations: list[ops.MigrateOperation]) -> list[ops.MigrateOperation]:
        kept: list[ops.MigrateOperation] = []
        for op in operations:
            kept += self.top(op)
        return kept

    def top(self, op: ops.MigrateOperation) -> list[ops.MigrateOperation]:
        if isinstance(op, ops.CreateTableOp):
            self.note("create table", op.table_name)
            return [op]
        if isinstance(op, ops.DropTableOp):
            if (op.table_name, None) not in self.retired:
                self.note("retire table", op.table_name, detail="kept with its rows")
            return []
        if isinstance(op, ops.CreateIndexOp):
            return self.create_index(op)
        if isinstance(op, ops.DropIndexOp):
            return self.drop_index(op, replaced=set())
        if isinstance(op, ops.ModifyTableOps):
            return _TableDecision(self, op).decide()
        self.refusals.append(f"unsupported schema change: {op!r}; change the model back")
        return []

    # -- indexes --------------------------------------------------------------------------
    def create_index(self, op: ops.CreateIndexOp) -> list[ops.MigrateOperation]:
        unique = bool(op.unique)
        self.note(
            "add index", op.table_name, detail=f"{op.index_name}{' unique' if unique else ''}"
        )
        return [op]

    def drop_index(self, op: ops.DropIndexOp, replaced: set[str]) -> list[ops.MigrateOperation]:
        name = str(op.index_name)
        if name not in replaced and (op.table_name or "", name) in self.outside_indexes:
            return []  # made outside oneclick: left alone (drift reports it)
        why = "replaced by the new definition" if name in replaced else "no longer declared"
        self.note("drop index", op.table_name or "", detail=f"{name}, {why}; it holds no data")
        return [op]

    # -- columns --------------------------------------------------------------------------
    def add_column(self, op: ops.AddColumnOp) -> list[ops.MigrateOperation]:
        column, name = op.column, op.column.name
        default = default_literal(column)
        server_default = default if default is not None else column.server_default
        plain = Column(name, column.type, nullable=column.nullable, server_default=server_default)
        rows = self.has_rows(op.table_name)
        targets = sorted(fk.target_fullname for fk in column.foreign_keys)
        detail = str(column.type) + "".join(f" -> {t}" for t in targets)
        if not column.nullable:
            detail += ", mandatory"
        if default is not None and rows:
            detail += f", existing rows get {default}"
        if not column.nullable and server_default is None:
            if rows:
                self.refusals.append(
                    f"{self.where(op.table_name, name)} is a new mandatory attribute on a table "
                    "with rows and has no default; give it a default in the model, or add it as "
                    "optional first and make it mandatory once every row has a value"
                )
                return []
            if self.sqlite:  # SQLite cannot add a NOT NULL column without a default
                self.note("add column", op.table_name, name, detail)
                nullable = Column(name, column.type, nullable=True)
                return [
                    ops.AddColumnOp(op.table_name, nullable),
                    ops.AlterColumnOp(
                        op.table_name,
                        name,
                        modify_nullable=False,
                        existing_type=column.type,
                        existing_nullable=True,
                    ),
                ]
        self.note("add column", op.table_name, name, detail)
        return [ops.AddColumnOp(op.table_name, plain)]

    def retire_column(self, op: ops.DropColumnOp) -> list[ops.MigrateOperation]:
        column = op.to_column()
        if (op.table_name, op.column_name) not in self.retired:
            self.note("retire column", op.table_name, op.column_name, "kept")
        if column.nullable:
            return []
        return [
            ops.AlterColumnOp(
                op.table_name,
                op.column_name,
                modify_nullable=True,
                existing_type=column.type,
                existing_nullable=False,
            )
        ]

    def retype(self, op: ops.AlterColumnOp) -> tuple[bool, list[ops.MigrateOperation]]:
        """(is a widening to run, the operations running it outside SQLite)."""
        old, new = to_instance(op.existing_type), to_instance(op.modify_type)
        verdict = judge_type_change(old, new)
        if verdict.same:
            return False, []
        if not verdict.widening:
            self.refusals.append(
                f"{op.table_name}.{op.column_name}: changing the type of "
                f"{self.model_name(op.table_name, op.column_name)} from {old} ({kind_of(old)}) "
                f"to {new} ({kind_of(new)}) could lose data: {verdict.reason}; {verdict.advice}"
            )
            return False, []
        self.note("widen type", op.table_name, op.column_name, f"{old} -> {new}")
        alter = ops.AlterColumnOp(
            op.table_name,
            op.column_name,
            modify_type=new,
            existing_type=old,
            existing_nullable=op.existing_nullable,
            existing_server_default=op.existing_server_default,
        )
        return True, [alter]

    def change_nullable(self, op: ops.AlterColumnOp) -> list[ops.MigrateOperation]:
        spec = self.metadata.tables.get(op.table_name)
        if spec is not None and op.column_name in spec.c and spec.c[op.column_name].primary_key:
            return []  # a primary key is never empty, whatever the reflection says
        type_ = op.modify_type if op.modify_type is not None else op.existing_type
        alter = ops.AlterColumnOp(
            op.table_name,
            op.column_name,
            modify_nullable=op.modify_nullable,
            existing_type=type_,
            existing_nullable=not op.modify_nullable,
        )
        if op.modify_nullable:
            self.note("relax", op.table_name, op.column_name, "now optional")
            return [alter]
        missing = self.count_nulls(op.table_name, op.column_name)
        if missing:
            self.refusals.append(
                f"{self.where(op.table_name, op.column_name)} becomes mandatory, but {missing} "
                "row(s) have no value; give those rows a value first, or keep it optional"
            )
            return []
        self.note("require", op.table_name, op.column_name, "now mandatory; every row has a value")
        return [alter]


class _TableDecision:
    """The policy applied to one table's operations (``ModifyTableOps``)."""

    def __init__(self, policy: Policy, op: ops.ModifyTableOps) -> None:
        self.policy = policy
        self.table_name = op.table_name
        self.ops = list(op.ops)
        self.added = {s.column.name for s in self.ops if isinstance(s, ops.AddColumnOp)}
        self.retired = {s.column_name for s in self.ops if isinstance(s, ops.DropColumnOp)}
        self.created_indexes = {
            str(s.index_name) for s in self.ops if isinstance(s, ops.CreateIndexOp)
        }
        self.retyped: list[Column[Any]] = []
        self.after_retype: list[ops.MigrateOperation] = []

    def decide(self) -> list[ops.MigrateOperation]:
        drops: list[ops.MigrateOperation] = []
        kept: list[ops.MigrateOperation] = []
        self.check_references()
        for sub in self.ops:
            if isinstance(sub, ops.DropIndexOp):
                drops += self.policy.drop_index(sub, self.created_indexes)
            else:
                kept += self.one(sub)
        result: list[ops.MigrateOperation] = []
        if self.retyped:
            result.append(RetypeColumnsOp(self.table_name, self.retyped))
            result += self.after_retype
        if drops or kept:
            result.append(ops.ModifyTableOps(self.table_name, drops + kept))
        return result

    def one(self, sub: ops.MigrateOperation) -> list[ops.MigrateOperation]:
        policy = self.policy
        if isinstance(sub, ops.AddColumnOp):
            return policy.add_column(sub)
        if isinstance(sub, ops.DropColumnOp):
            return policy.retire_column(sub)
        if isinstance(sub, ops.AlterColumnOp):
            return self.alter(sub)
        if isinstance(sub, ops.CreateIndexOp):
            return policy.create_index(sub)
        if isinstance(sub, ops.CreateForeignKeyOp):
            return self.new_reference(sub)
        if isinstance(sub, ops.DropConstraintOp):
            return []  # foreign keys: see check_references; other constraints are left alone
        policy.refusals.append(
            f"{self.table_name}: unsupported schema change {type(sub).__name__}; "
            "change the model back"
        )
        return []

    def alter(self, sub: ops.AlterColumnOp) -> list[ops.MigrateOperation]:
        result: list[ops.MigrateOperation] = []
        if sub.modify_type is not None:
            widen, alters = self.policy.retype(sub)
            if widen and self.policy.sqlite:
                self.retyped.append(
                    retyped_column(
                        sub.column_name,
                        sub.modify_type,
                        sub.existing_nullable,
                        sub.existing_server_default,
                    )
                )
                kinds = (
                    kind_of(to_instance(sub.existing_type)),
                    kind_of(to_instance(sub.modify_type)),
                )
                if tuple(k.kind for k in kinds) == ("date", "datetime"):
                    dialect = self.policy.connection.dialect
                    self.after_retype.append(
                        date_to_datetime_sql(dialect, self.table_name, sub.column_name)
                    )
            elif widen:
                result += alters
        if sub.modify_nullable is not None:
            result += self.policy.change_nullable(sub)
        return result

    def new_reference(self, sub: ops.CreateForeignKeyOp) -> list[ops.MigrateOperation]:
        if not set(sub.local_cols) <= self.added:
            return []  # refused in check_references
        name = foreign_key_name(self.table_name, "_".join(sub.local_cols))
        return [
            ops.CreateForeignKeyOp(
                name, self.table_name, sub.referent_table, sub.local_cols, sub.remote_cols
            )
        ]

    def check_references(self) -> None:
        created: dict[str, str] = {}
        dropped: dict[str, str] = {}
        for sub in self.ops:
            if isinstance(sub, ops.CreateForeignKeyOp) and not set(sub.local_cols) <= self.added:
                created[",".join(sub.local_cols)] = sub.referent_table
            elif isinstance(sub, ops.DropConstraintOp) and sub.constraint_type == "foreignkey":
                constraint: Any = sub.to_constraint()
                local = list(constraint.column_keys)
                if set(local) <= self.retired:
                    continue  # a retired reference keeps its foreign key
                dropped[",".join(local)] = constraint.elements[0].column.table.name
        for key in sorted(set(created) | set(dropped)):
            where = self.policy.where(self.table_name, key)
            if key in created and key in dropped:
                what = f"would refer to {created[key]} instead of {dropped[key]}"
            elif key in created:
                what = f"would become a reference to {created[key]}"
            else:
                what = f"would stop being a reference to {dropped[key]}"
            self.policy.refusals.append(
                f"{where} {what}: its stored values would point to the wrong rows or nowhere; "
                "keep its type, or add a new attribute with the new type and fill it in the app"
            )
