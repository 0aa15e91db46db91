"""The data tool: bring a stage's database to a release's model without losing data."""

from __future__ import annotations

from oneclick.data.apply import SchemaPlan, SchemaResult, apply_schema, plan_schema
from oneclick.data.plan import SchemaChange

__all__ = ["SchemaChange", "SchemaPlan", "SchemaResult", "apply_schema", "plan_schema"]
