"""The database tables of an app model, and the fingerprint of that schema.

``describe_tables`` turns a model into a plain description (``TableSpec``); everything else
is derived from it: ``app_metadata`` builds SQLAlchemy ``MetaData`` for the data tool, and
the compiler renders the generated ``server/models.py`` from the same description, so the
two cannot drift. The table contract: entity ``Expense`` → table ``expense``, attribute
``SpentOn`` → column ``spent_on``, an automatic ``id`` INTEGER primary key, a reference to
an entity → INTEGER foreign key to its ``id``, a static entity → VARCHAR(64) holding the key.
The ``oneclick_schema`` table is not part of an app's metadata.

For the data tool, ``app_metadata`` also carries what the model says beyond the tables:
``Table.info`` holds ``entity`` (the model name) and, for an entity with ``renamed_from``,
``renamed_from`` (the old table name) and ``renamed_from_entity``; ``Column.info`` holds
``attribute`` and, likewise, ``renamed_from`` (the old column name) and
``renamed_from_attribute``. Model defaults are the columns' (Python-side) defaults.

``schema_fingerprint`` is ``"sha256:"`` over a canonical JSON description of the tables
(names, columns, types, nullability, primary keys, foreign keys, indexes), independent of
the order of entities and attributes in the model. Rename hints are not part of it: the
fingerprint names the schema a release needs, and a hint only says how to get there, so a
release that drops a hint once the rename is done keeps the same fingerprint (and a database
at that schema stays on the fast path).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
)
from sqlalchemy.types import TypeEngine

from oneclick.compiler.attributes import AttributeInfo, describe_attribute
from oneclick.compiler.names import column_name, table_name
from oneclick.errors import BuildError
from oneclick.model.types import AppModel, Entity

RESERVED_TABLE_PREFIXES = ("oneclick_", "alembic")
INDEX_NAME_LIMIT = 60
SQL_TYPES: dict[str, type[TypeEngine[Any]]] = {
    "BigInteger": BigInteger,
    "Boolean": Boolean,
    "Date": Date,
    "DateTime": DateTime,
    "Integer": Integer,
    "Numeric": Numeric,
    "String": String,
}
_KIND_TYPES = {
    "integer": "Integer",
    "long": "BigInteger",
    "reference": "Integer",
    "decimal": "Numeric",
    "boolean": "Boolean",
    "date": "Date",
    "datetime": "DateTime",
}


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type_name: str  # a key of SQL_TYPES
    type_args: tuple[int, ...] = ()
    nullable: bool = True
    primary_key: bool = False
    foreign_key: str | None = None  # "table.id"
    default: Any = None
    attribute: str | None = None  # the model's attribute name (None for ``id``)
    renamed_from: str | None = None  # the model's old attribute name


@dataclass(frozen=True)
class IndexSpec:
    name: str
    columns: tuple[str, ...]
    unique: bool


@dataclass(frozen=True)
class TableSpec:
    entity: str
    name: str
    columns: tuple[ColumnSpec, ...]
    indexes: tuple[IndexSpec, ...]
    renamed_from: str | None = None  # the model's old entity name


def describe_tables(model: AppModel) -> list[TableSpec]:
    """One ``TableSpec`` per entity, in model order; BuildError on clashing names."""
    tables = [_describe_table(model, entity) for entity in model.entities]
    _check_unique([t.name for t in tables], "table", "entities")
    return tables


def _describe_table(model: AppModel, entity: Entity) -> TableSpec:
    name = table_name(entity.name)
    if name.startswith(RESERVED_TABLE_PREFIXES):
        raise BuildError(
            f"entity {entity.name}: its table {name!r} would start with a prefix oneclick "
            f"keeps for itself ({', '.join(RESERVED_TABLE_PREFIXES)}); rename the entity"
        )
    columns = [ColumnSpec("id", "Integer", nullable=False, primary_key=True)]
    columns += [
        _column(describe_attribute(model, entity, a), a.renamed_from) for a in entity.attributes
    ]
    _check_unique([c.name for c in columns], "column", f"attributes of {entity.name} (and Id)")
    indexes = [_index(name, entity, i.attributes, i.unique) for i in entity.indexes]
    _check_unique([i.name for i in indexes], "index", f"indexes of {entity.name}")
    return TableSpec(entity.name, name, tuple(columns), tuple(indexes), entity.renamed_from)


def _column(info: AttributeInfo, renamed_from: str | None = None) -> ColumnSpec:
    args: tuple[int, ...]
    if info.length is not None:
        type_name, args = "String", (info.length,)
    elif info.kind == "decimal":
        type_name, args = "Numeric", (info.precision or 0, info.scale or 0)
    else:
        type_name, args = _KIND_TYPES[info.kind], ()
    foreign_key = f"{table_name(info.entity)}.id" if info.entity else None
    return ColumnSpec(
        name=info.column,
        type_name=type_name,
        type_args=args,
        nullable=not info.mandatory,
        foreign_key=foreign_key,
        default=info.default,
        attribute=info.name,
        renamed_from=renamed_from,
    )


def _index(table: str, entity: Entity, attributes: list[str], unique: bool) -> IndexSpec:
    for attribute in attributes:
        if entity.attribute(attribute) is None:
            raise BuildError(
                f"entity {entity.name}: an index names attribute {attribute!r}, which the "
                "entity does not have; fix the index in the model"
            )
    columns = tuple(column_name(a) for a in attributes)
    name = f"ix_{table}_{'_'.join(columns)}"
    if len(name) > INDEX_NAME_LIMIT:
        suffix = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[: INDEX_NAME_LIMIT - 9]}_{suffix}"
    return IndexSpec(name, columns, unique)


def _check_unique(names: list[str], what: str, among: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise BuildError(
                f"two {among} map to the same {what} name {name!r}; "
                "rename one of them so their snake_case names differ"
            )
        seen.add(name)


def build_metadata(tables: list[TableSpec]) -> MetaData:
    """SQLAlchemy tables for the description (the generated models module builds the same)."""
    metadata = MetaData()
    for spec in tables:
        items: list[Any] = [_sql_column(c) for c in spec.columns]
        items += [Index(i.name, *i.columns, unique=i.unique) for i in spec.indexes]
        info: dict[str, Any] = {"entity": spec.entity}
        if spec.renamed_from:
            info.update(
                renamed_from=table_name(spec.renamed_from), renamed_from_entity=spec.renamed_from
            )
        Table(spec.name, metadata, *items, info=info)
    return metadata


def _sql_column(spec: ColumnSpec) -> Column[Any]:
    sql_type = SQL_TYPES[spec.type_name](*spec.type_args)
    extra: list[Any] = [ForeignKey(spec.foreign_key)] if spec.foreign_key else []
    if spec.primary_key:
        return Column(spec.name, sql_type, primary_key=True, autoincrement=True)
    info: dict[str, Any] = {"attribute": spec.attribute} if spec.attribute else {}
    if spec.renamed_from:
        info.update(
            renamed_from=column_name(spec.renamed_from), renamed_from_attribute=spec.renamed_from
        )
    return Column(
        spec.name, sql_type, *extra, nullable=spec.nullable, default=spec.default, info=info
    )


def app_metadata(model: AppModel) -> MetaData:
    """The app's tables (without ``oneclick_schema``), for migrations and ``create_all``."""
    return build_metadata(describe_tables(model))


def describe_metadata(metadata: MetaData) -> list[dict[str, Any]]:
    """The canonical, order-independent description that the fingerprint hashes."""
    return [
        {
            "name": table.name,
            "columns": sorted(
                (
                    {
                        "name": column.name,
                        "type": str(column.type),
                        "nullable": bool(column.nullable),
                        "primary_key": column.primary_key,
                        "foreign_keys": sorted(fk.target_fullname for fk in column.foreign_keys),
                    }
                    for column in table.columns
                ),
                key=lambda c: str(c["name"]),
            ),
            "indexes": sorted(
                (
                    {
                        "name": index.name,
                        "columns": [c.name for c in index.columns],
                        "unique": bool(index.unique),
                    }
                    for index in table.indexes
                ),
                key=lambda i: str(i["name"]),
            ),
        }
        for table in sorted(metadata.tables.values(), key=lambda t: t.name)
    ]


def metadata_fingerprint(metadata: MetaData) -> str:
    """``"sha256:"`` over the canonical description of ``metadata``'s tables."""
    text = json.dumps(describe_metadata(metadata), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def schema_fingerprint(model: AppModel) -> str:
    """The fingerprint of the schema ``model`` needs (what ``/readyz`` expects in the database)."""
    return metadata_fingerprint(app_metadata(model))
