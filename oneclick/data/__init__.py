"""The data tool: bring a stage's database to a release's model without losing data.

``plan_schema`` and ``apply_schema`` (``oneclick.data.apply``) are what the flows call;
``detect_drift`` (``oneclick.data.drift``) reports changes made outside oneclick.

The names are loaded on first use: reading drift (``oneclick status``) does not import Alembic.
``oneclick.data.quick_drift`` (standard library only) tells first, on SQLite, a database left
as the last apply recorded it, without importing SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oneclick.lazy import lazy_exports

if TYPE_CHECKING:
    from oneclick.data.apply import SchemaPlan as SchemaPlan
    from oneclick.data.apply import SchemaResult as SchemaResult
    from oneclick.data.apply import apply_schema as apply_schema
    from oneclick.data.apply import plan_schema as plan_schema
    from oneclick.data.changes import SchemaChange as SchemaChange
    from oneclick.data.drift import DriftResult as DriftResult
    from oneclick.data.drift import detect_drift as detect_drift

_WHERE = {
    "DriftResult": "drift",
    "SchemaChange": "changes",
    "SchemaPlan": "apply",
    "SchemaResult": "apply",
    "apply_schema": "apply",
    "detect_drift": "drift",
    "plan_schema": "apply",
}

__all__ = sorted(_WHERE)
__getattr__ = lazy_exports(__name__, _WHERE)
