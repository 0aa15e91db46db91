"""The data tool: bring a stage's database to a release's model without losing data.

``plan_schema`` and ``apply_schema`` (``oneclick.data.apply``) are what the flows call;
``detect_drift`` (``oneclick.data.drift``) reports changes made outside oneclick.
"""

from __future__ import annotations

from oneclick.data.apply import (
    SchemaPlan,
    SchemaResult,
    apply_schema,
    plan_schema,
)
from oneclick.data.changes import SchemaChange
from oneclick.data.drift import DriftResult, detect_drift

__all__ = [
    "DriftResult",
    "SchemaChange",
    "SchemaPlan",
    "SchemaResult",
    "apply_schema",
    "detect_drift",
    "plan_schema",
]
