"""Type changes on SQLite, without the value conversion that would lose data.

Alembic's batch mode changes a column's type by copying the table with
``CAST(column AS new type)``. SQLite has no real column types, only affinities, and a cast can
destroy values: ``CAST('2024-01-02' AS DATETIME)`` is ``2024`` (DATETIME has numeric
affinity). ``RetypeColumnsOp`` recreates the table instead with the new declared types given
as ``reflect_args``: values are copied as they are. A date that becomes a datetime is then
rewritten in SQLAlchemy's datetime format (``2024-01-02 00:00:00.000000``) by a plain
``UPDATE`` (``date_to_datetime_sql``).

The operation renders as plain Alembic (``op.batch_alter_table(..., recreate="always",
reflect_args=[...])``), so the rendered script runs without oneclick.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate.api import AutogenContext
from alembic.autogenerate.render import renderers
from alembic.operations import Operations, ops
from sqlalchemy import Column, DefaultClause
from sqlalchemy.engine import Dialect

DATETIME_SUFFIX = " 00:00:00.000000"
# A batch reflects only its own table: following foreign keys would reflect every table a
# chain of references reaches, for every table recreated (quadratic in a large schema).
NO_FOLLOWING = {"resolve_fks": False}


class RetypeColumnsOp(ops.MigrateOperation):
    """Recreate ``table_name`` with ``columns`` (name, new type, nullability, server default)
    declared as given; every value is copied unchanged."""

    def __init__(self, table_name: str, columns: list[Column[Any]]) -> None:
        self.table_name = table_name
        self.columns = columns

    def run(self, operations: Operations) -> None:
        with operations.batch_alter_table(
            self.table_name,
            recreate="always",
            reflect_args=tuple(self.columns),
            reflect_kwargs=NO_FOLLOWING,
        ):
            pass


def retyped_column(
    name: str, type_: Any, nullable: bool | None, server_default: Any
) -> Column[Any]:
    """The column as it will be declared, keeping its nullability and server default."""
    default = getattr(server_default, "arg", None)
    return Column(
        name,
        type_,
        nullable=True if nullable is None else nullable,
        server_default=DefaultClause(default) if default is not None else None,
    )


def _render_column(column: Column[Any]) -> str:
    parts = [repr(column.name), f"sa.{column.type!r}", f"nullable={column.nullable!r}"]
    default = getattr(column.server_default, "arg", None)
    if default is not None:
        parts.append(f"server_default=sa.text({str(default)!r})")
    return f"sa.Column({', '.join(parts)})"


@renderers.dispatch_for(RetypeColumnsOp)
def _render_retype(_context: AutogenContext, op: RetypeColumnsOp) -> list[str]:
    columns = ", ".join(_render_column(c) for c in op.columns)
    return [
        f"with op.batch_alter_table({op.table_name!r}, recreate='always', "
        f"reflect_args=[{columns}], reflect_kwargs={NO_FOLLOWING!r}) as batch_op:",
        "pass",
        "",
    ]


def date_to_datetime_sql(dialect: Dialect, table: str, column: str) -> ops.ExecuteSQLOp:
    """Rewrite stored dates (``YYYY-MM-DD``) as datetimes at midnight."""
    quote = dialect.identifier_preparer.quote
    name = quote(column)
    return ops.ExecuteSQLOp(
        f"UPDATE {quote(table)} SET {name} = {name} || '{DATETIME_SUFFIX}' "
        f"WHERE length({name}) = 10"
    )
