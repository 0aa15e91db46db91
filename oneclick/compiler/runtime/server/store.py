"""The records of each entity in the database (SQLAlchemy Core, a synchronous engine).

Every write runs in one transaction that also checks its references: a reference to a
record that does not exist is ``Invalid`` ("Owner: no Employee with Id 7", every such
reference of the record at once); deleting a record that others still refer to is a
``Conflict`` that names the records by their label ('Employee "Ann" is still referred to by 1
Expense record through Owner ("Taxi")'), or by ``#Id`` when the entity has no label. Records come back as
{"Id": ..., attribute name: Python value}. On SQLite, foreign keys are enforced too.

For ``/readyz``: ``fingerprint`` reads the schema fingerprint row (``oneclick_schema``, id
1), which ``/readyz`` compares with the build's; ``misfits`` says what the live schema lacks
for this build's tables (``schema_fit``: compatibility, not equality). ``misfits`` reflects
the database once per recorded fingerprint and keeps the verdict while the row holds that
value (Kubernetes probes every 2 s; a schema changes only with its fingerprint). A verdict
is kept only when the row still holds the same value after the reflection, so a schema
committed meanwhile is judged again at the next probe.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import column, create_engine, event, func, inspect, select, table
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from .models import TABLES
from .schema_fit import find_misfits, summarize
from .values import Invalid

log = logging.getLogger("server")

SCHEMA_TABLE = "oneclick_schema"

# Decimal columns on SQLite are stored as REAL; values are rounded to the attribute's scale
# when they are read back, so the driver's warning about it is noise for this server.
warnings.filterwarnings("ignore", message=r".*does \*not\* support Decimal objects natively")


class NotFound(LookupError):
    """No record with that Id."""


class Conflict(Exception):
    """The change would break a reference between records."""


class Unavailable(Exception):
    """The database is not configured or cannot be used."""


def _read_fingerprint(connection: Connection) -> str | None:
    if not inspect(connection).has_table(SCHEMA_TABLE):
        return None
    value = connection.execute(
        select(column("fingerprint")).select_from(table(SCHEMA_TABLE)).where(column("id") == 1)
    ).scalar_one_or_none()
    return None if value is None else str(value)


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


REFERRERS_SHOWN = 3
LABEL_SHOWN = 60


class Store:
    """Record access for the entities described by ``entities`` (the spec's list)."""

    def __init__(self, url: str | None, entities: list[dict[str, Any]]) -> None:
        self.entities = {e["name"]: e for e in entities}
        self.problem: str | None = None
        self._verdict: tuple[str, tuple[str, ...]] | None = None  # (fingerprint, misfits)
        self.engine: Engine | None = None
        if not url:
            self.problem = "ONECLICK_DATABASE_URL is not set"
            return
        try:
            self.engine = create_engine(url, pool_pre_ping=True)
        except Exception as exc:  # a malformed URL or a missing driver; never echo the URL
            self.problem = f"cannot use ONECLICK_DATABASE_URL ({type(exc).__name__})"
            return
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _enable_sqlite_foreign_keys)

    def _engine(self) -> Engine:
        if self.engine is None:
            raise Unavailable(self.problem or "no database")
        return self.engine

    def dispose(self) -> None:
        if self.engine is not None:
            self.engine.dispose()

    def fingerprint(self) -> str | None:
        """The fingerprint row's value; None when the schema was never applied."""
        with self._engine().connect() as connection:
            return _read_fingerprint(connection)

    def misfits(self, fingerprint: str) -> tuple[str, ...]:
        """What the live schema lacks for this build's tables (empty: it fits), judged once
        while the fingerprint row holds ``fingerprint``."""
        kept = self._verdict  # one tuple, replaced whole: safe to read from any thread
        if kept is not None and kept[0] == fingerprint:
            return kept[1]
        with self._engine().connect() as connection:
            problems = tuple(find_misfits(TABLES.values(), inspect(connection)))
            still = _read_fingerprint(connection)
        if still == fingerprint:
            self._verdict = (fingerprint, problems)
            if problems:
                log.warning(
                    "schema %s does not fit this build: %s", fingerprint, summarize(problems)
                )
            else:
                log.info("schema %s fits this build", fingerprint)
        return problems

    def _record(self, entity: str, row: Any) -> dict[str, Any]:
        mapping = row._mapping
        record = {"Id": mapping["id"]}
        for attribute in self.entities[entity]["attributes"]:
            record[attribute["name"]] = mapping[attribute["column"]]
        return record

    def _columns(self, entity: str, values: dict[str, Any]) -> dict[str, Any]:
        names = {a["name"]: a["column"] for a in self.entities[entity]["attributes"]}
        return {names[name]: value for name, value in values.items()}

    def list(self, entity: str, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        sql = TABLES[entity]
        with self._engine().connect() as connection:
            total = connection.execute(select(func.count()).select_from(sql)).scalar_one()
            rows = connection.execute(
                select(sql).order_by(sql.c.id).limit(limit).offset(offset)
            ).all()
        return [self._record(entity, row) for row in rows], int(total)

    def get(self, entity: str, record_id: int) -> dict[str, Any]:
        with self._engine().connect() as connection:
            return self._get(connection, entity, record_id)

    def _get(self, connection: Connection, entity: str, record_id: int) -> dict[str, Any]:
        sql = TABLES[entity]
        row = connection.execute(select(sql).where(sql.c.id == record_id)).first()
        if row is None:
            raise NotFound(f"no {entity} with Id {record_id}")
        return self._record(entity, row)

    def create(self, entity: str, values: dict[str, Any]) -> dict[str, Any]:
        with self._transaction() as connection:
            self._check_references(connection, entity, values)
            insert = TABLES[entity].insert().values(self._columns(entity, values))
            result = connection.execute(insert)
            assert result.inserted_primary_key is not None
            record_id = result.inserted_primary_key[0]
            return self._get(connection, entity, record_id)

    def update(self, entity: str, record_id: int, values: dict[str, Any]) -> dict[str, Any]:
        sql = TABLES[entity]
        with self._transaction() as connection:
            self._get(connection, entity, record_id)
            self._check_references(connection, entity, values)
            if values:
                changes = self._columns(entity, values)
                connection.execute(sql.update().where(sql.c.id == record_id).values(changes))
            return self._get(connection, entity, record_id)

    def delete(self, entity: str, record_id: int) -> None:
        sql = TABLES[entity]
        with self._transaction() as connection:
            record = self._get(connection, entity, record_id)
            self._check_referrers(connection, entity, record)
            connection.execute(sql.delete().where(sql.c.id == record_id))

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """One transaction; a constraint the database enforces becomes a ``Conflict``."""
        try:
            with self._engine().begin() as connection:
                yield connection
        except IntegrityError as exc:
            raise Conflict(
                "the change breaks a rule of the database (a reference or a unique index); "
                "reload the records and try again"
            ) from exc

    def _label(self, entity: str, record: dict[str, Any]) -> str:
        """The record's label in quotes, or ``#Id`` when it has none."""
        label = self.entities[entity]["label"]
        text = record[label] if label else None
        if not text:
            return f"#{record['Id']}"
        return '"' + (text if len(text) <= LABEL_SHOWN else text[:LABEL_SHOWN] + "...") + '"'

    def _check_references(
        self, connection: Connection, entity: str, values: dict[str, Any]
    ) -> None:
        problems = []
        for attribute in self.entities[entity]["attributes"]:
            value = values.get(attribute["name"])
            if attribute["type"] != "reference" or value is None:
                continue
            target = TABLES[attribute["entity"]]
            found = connection.execute(select(target.c.id).where(target.c.id == value)).first()
            if found is None:
                message = f"no {attribute['entity']} with Id {value}"
                problems.append(Invalid(attribute["name"], message, missing=value))
        if problems:
            raise Invalid.together(problems)

    def _check_referrers(self, connection: Connection, entity: str, record: dict[str, Any]) -> None:
        """``Conflict`` naming the first few records, by label, that still refer to ``record``."""
        for other in self.entities.values():
            sql = TABLES[other["name"]]
            for attribute in other["attributes"]:
                if attribute["type"] != "reference" or attribute["entity"] != entity:
                    continue
                where = sql.c[attribute["column"]] == record["Id"]
                if other["name"] == entity:
                    where = where & (sql.c.id != record["Id"])
                first = select(sql).where(where).order_by(sql.c.id).limit(REFERRERS_SHOWN)
                rows = connection.execute(first).all()
                if not rows:
                    continue
                count = connection.execute(
                    select(func.count()).select_from(sql).where(where)
                ).scalar_one()
                labels = [self._label(other["name"], self._record(other["name"], r)) for r in rows]
                more = ", ..." if count > len(rows) else ""
                raise Conflict(
                    f"{entity} {self._label(entity, record)} is still referred to by {count} "
                    f"{other['name']} record{'s' if count != 1 else ''} through "
                    f"{attribute['name']} ({', '.join(labels)}{more}); change or delete those first"
                )
