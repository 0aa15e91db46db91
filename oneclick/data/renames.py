"""Renames the model asks for (``renamed_from``), resolved against the live database.

Alembic's comparison cannot see a rename: it would drop the old table or column and add an
empty new one. So the hints (``Table.info["renamed_from"]``, ``Column.info["renamed_from"]``,
old table and column names, as ``oneclick.compiler.schema`` sets them) are resolved first:

- entity: its table exists → nothing to rename (done before, or the old table is retired);
  else the old table exists → rename it; else, in a database that already holds app tables,
  an error naming both (in an empty database there is nothing to rename: it is created);
- attribute: the same inside the entity's table (under the old table name when the entity
  is renamed too); in a table this plan creates, there is nothing to rename.

The plan then compares a *renamed-back* copy of the model (old names wherever a rename will
happen) with the live schema, so every operation it keeps applies to the live names, and the
renames run last (``rename_operations``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from alembic.autogenerate.api import AutogenContext
from alembic.autogenerate.render import renderers
from alembic.operations import ops
from sqlalchemy import Column, DefaultClause, ForeignKey, Index, MetaData, Table

from oneclick.data.changes import SchemaChange


@dataclass
class RenamePlan:
    tables: dict[str, str] = field(default_factory=dict)  # new table → old table
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # table → {new → old}
    problems: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.tables and not any(self.columns.values())

    def live_table(self, table: str) -> str:
        return self.tables.get(table, table)

    def live_column(self, table: str, column: str) -> str:
        return self.columns.get(table, {}).get(column, column)


def _entity(table: Table) -> str:
    return str(table.info.get("entity", table.name))


def _resolve_table(
    plan: RenamePlan, table: Table, live: Mapping[str, Collection[str]], claimed: dict[str, str]
) -> None:
    old = table.info.get("renamed_from")
    if not old or table.name in live or not live:
        return
    old_entity = table.info.get("renamed_from_entity", old)
    if old in claimed:
        plan.problems.append(
            f"entities {claimed[old]} and {_entity(table)} are both renamed from {old_entity}; "
            "keep renamed_from on one of them"
        )
    elif old in live:
        plan.tables[table.name] = old
        claimed[old] = _entity(table)
    else:
        plan.problems.append(
            f"entity {_entity(table)} is renamed from {old_entity}, but the database has "
            f"neither table {table.name} nor {old} (it has: {', '.join(sorted(live))}); fix "
            "renamed_from, or remove it if that entity never reached this stage"
        )


def _resolve_columns(plan: RenamePlan, table: Table, live: Mapping[str, Collection[str]]) -> None:
    live_columns = live.get(plan.live_table(table.name))
    if live_columns is None:
        return  # a new table: nothing to rename in it
    renames: dict[str, str] = {}
    for column in table.columns:
        old = column.info.get("renamed_from")
        if not old or column.name in live_columns:
            continue
        where = f"{_entity(table)}.{column.info.get('attribute', column.name)}"
        old_name = column.info.get("renamed_from_attribute", old)
        if old in renames.values():
            plan.problems.append(
                f"{where}: another attribute is renamed from {old_name} too; keep one hint"
            )
        elif old in live_columns:
            renames[column.name] = old
        else:
            plan.problems.append(
                f"{where} is renamed from {old_name}, but table {plan.live_table(table.name)} "
                f"has neither column {column.name} nor {old} (it has: "
                f"{', '.join(sorted(live_columns))}); fix renamed_from, or remove it if that "
                "attribute never reached this stage"
            )
    if renames:
        plan.columns[table.name] = renames


def resolve_renames(live: Mapping[str, Collection[str]], metadata: MetaData) -> RenamePlan:
    """The renames to do, given the live tables and their columns; problems are collected."""
    plan = RenamePlan()
    claimed: dict[str, str] = {}
    for table in metadata.sorted_tables:
        _resolve_table(plan, table, live, claimed)
    for table in metadata.sorted_tables:
        _resolve_columns(plan, table, live)
    return plan


def _copy_column(plan: RenamePlan, table: str, column: Column[Any]) -> Column[Any]:
    keys: list[Any] = []
    for fk in column.foreign_keys:
        target_table, _, target_column = fk.target_fullname.rpartition(".")
        live = plan.live_table(target_table)
        keys.append(ForeignKey(f"{live}.{plan.live_column(target_table, target_column)}"))
    default = getattr(column.default, "arg", None)
    server_default = getattr(column.server_default, "arg", None)
    return Column(
        plan.live_column(table, column.name),
        column.type,
        *keys,
        primary_key=column.primary_key,
        nullable=column.nullable,
        autoincrement=column.autoincrement,
        default=default,
        server_default=DefaultClause(server_default) if server_default is not None else None,
        info=dict(column.info),
    )


def renamed_back(metadata: MetaData, plan: RenamePlan) -> MetaData:
    """A copy of ``metadata`` under the live names of everything ``plan`` will rename."""
    if plan.empty:
        return metadata
    copy = MetaData()
    for table in metadata.sorted_tables:
        items: list[Any] = [_copy_column(plan, table.name, c) for c in table.columns]
        items += [
            Index(
                index.name,
                *[plan.live_column(table.name, c.name) for c in index.columns],
                unique=bool(index.unique),
            )
            for index in table.indexes
        ]
        Table(plan.live_table(table.name), copy, *items, info=dict(table.info))
    return copy


@renderers.dispatch_for(ops.RenameTableOp)
def _render_rename_table(_context: AutogenContext, op: ops.RenameTableOp) -> str:
    """Alembic runs ``rename_table`` but has no renderer for it."""
    return f"op.rename_table({op.table_name!r}, {op.new_table_name!r})"


def rename_operations(
    plan: RenamePlan, metadata: MetaData
) -> tuple[list[ops.MigrateOperation], list[SchemaChange]]:
    """Table renames, then column renames (under the new table names)."""
    operations: list[ops.MigrateOperation] = []
    changes: list[SchemaChange] = []
    for new, old in sorted(plan.tables.items()):
        operations.append(ops.RenameTableOp(old, new))
        changes.append(SchemaChange(kind="rename table", table=new, detail=f"from {old}"))
    for table, renames in sorted(plan.columns.items()):
        sub: list[ops.MigrateOperation] = []
        for new, old in sorted(renames.items()):
            column = metadata.tables[table].c[new]
            sub.append(
                ops.AlterColumnOp(
                    table,
                    old,
                    modify_name=new,
                    existing_type=column.type,
                    existing_nullable=column.nullable,
                )
            )
            changes.append(
                SchemaChange(kind="rename column", table=table, column=new, detail=f"from {old}")
            )
        operations.append(ops.ModifyTableOps(table, sub))
    return operations, changes
