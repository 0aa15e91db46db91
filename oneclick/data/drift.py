"""Drift: changes made to a stage database outside oneclick, found and reported.

Every apply records the database's schema as it left it (``oneclick_schema.live_schema``).
``compare_snapshots(recorded, live)`` lists what differs now, as ``SchemaChange`` values of
kind ``drift: table added``, ``drift: table dropped``, ``drift: column added``,
``drift: column dropped``, ``drift: column changed``, ``drift: index added``,
``drift: index dropped``, ``drift: index changed``, ``drift: constraint changed``.
``detect_drift(url)`` does that for a stage database (for ``oneclick status``); plans and
applies report the same list, so the next publish shows it instead of silently going on.
On SQLite, ``oneclick.data.quick_drift.drift_at_a_glance(url)`` often answers first without
reflecting (nor importing SQLAlchemy): the schema version still the one the apply recorded.

Drift is never "repaired" by dropping anything: the policy in ``oneclick.data.policy`` keeps
objects made outside oneclick (columns and tables are retired like any other, indexes are left
alone) and brings back what the model needs.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import Connection

from oneclick.data.changes import SchemaChange
from oneclick.data.engine import read_only
from oneclick.data.fingerprint import read_record
from oneclick.data.snapshot import Snapshot, describe_live_schema


class DriftResult(BaseModel):
    """What a stage database's schema looks like next to what oneclick last left there."""

    model_config = ConfigDict(frozen=True)

    fingerprint: str | None  # recorded; None when oneclick never applied a schema here
    release: str | None
    known: bool  # the record holds a schema description to compare with
    changes: list[SchemaChange]

    @property
    def drifted(self) -> bool:
        return bool(self.changes)


def _column_text(column: dict[str, Any]) -> str:
    text = str(column["type"]) + ("" if column["nullable"] else " NOT NULL")
    return text + (f" DEFAULT {column['default']}" if column.get("default") is not None else "")


def _compare_columns(table: str, old: dict[str, Any], new: dict[str, Any]) -> list[SchemaChange]:
    changes = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            kind, detail = "drift: column added", _column_text(new[name])
        elif name not in new:
            kind, detail = "drift: column dropped", f"was {_column_text(old[name])}"
        elif old[name] != new[name]:
            kind = "drift: column changed"
            detail = f"{_column_text(old[name])} -> {_column_text(new[name])}"
        else:
            continue
        changes.append(SchemaChange(kind=kind, table=table, column=name, detail=detail))
    return changes


def _compare_indexes(table: str, old: dict[str, Any], new: dict[str, Any]) -> list[SchemaChange]:
    changes = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            kind = "drift: index added"
        elif name not in new:
            kind = "drift: index dropped"
        elif old[name] != new[name]:
            kind = "drift: index changed"
        else:
            continue
        changes.append(SchemaChange(kind=kind, table=table, detail=name))
    return changes


def _compare_table(table: str, old: dict[str, Any], new: dict[str, Any]) -> list[SchemaChange]:
    changes = _compare_columns(table, old["columns"], new["columns"])
    changes += _compare_indexes(table, old["indexes"], new["indexes"])
    for key in ("primary_key", "foreign_keys", "unique"):
        if old.get(key) != new.get(key):
            detail = f"{key.replace('_', ' ')}: {old.get(key)} -> {new.get(key)}"
            changes.append(
                SchemaChange(kind="drift: constraint changed", table=table, detail=detail)
            )
    return changes


def compare_snapshots(recorded: Snapshot, live: Snapshot) -> list[SchemaChange]:
    """Every difference between two descriptions of one database, table by table."""
    old, new = recorded["tables"], live["tables"]
    changes: list[SchemaChange] = []
    for table in sorted(set(old) | set(new)):
        if table not in old:
            columns = ", ".join(new[table]["columns"])
            changes.append(SchemaChange(kind="drift: table added", table=table, detail=columns))
        elif table not in new:
            changes.append(
                SchemaChange(kind="drift: table dropped", table=table, detail="with its rows")
            )
        else:
            changes += _compare_table(table, old[table], new[table])
    return changes


def indexes_made_outside(recorded: Snapshot | None, live: Snapshot) -> set[tuple[str, str]]:
    """(table, index) pairs oneclick did not create: absent from the record, or, without a
    record, not named like oneclick's own indexes (``ix_``)."""
    made = set()
    for table, spec in live["tables"].items():
        known = (recorded or {"tables": {}})["tables"].get(table, {}).get("indexes", {})
        for name in spec["indexes"]:
            own = name in known if recorded is not None else name.startswith("ix_")
            if not own:
                made.add((table, name))
    return made


def drift_on(connection: Connection) -> DriftResult:
    """``detect_drift`` on an open connection."""
    record = read_record(connection)
    if record is None or record.live_schema is None:
        return DriftResult(
            fingerprint=record.fingerprint if record else None,
            release=record.release if record else None,
            known=False,
            changes=[],
        )
    changes = compare_snapshots(record.live_schema, describe_live_schema(connection))
    return DriftResult(
        fingerprint=record.fingerprint, release=record.release, known=True, changes=changes
    )


def detect_drift(url: str) -> DriftResult:
    """Compare the database at ``url`` with what oneclick's last apply left. Changes nothing."""
    with read_only(url) as connection:
        return drift_on(connection)
