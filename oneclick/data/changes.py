"""One line of a schema plan, as people read it in a run's artifact and in the logs.

``kind`` is one of: ``create table``, ``add column``, ``add index``, ``drop index``,
``widen type``, ``relax``, ``require``, ``rename table``, ``rename column``,
``retire column``, ``retire table``; drift found in a stage database adds ``drift: ...``
kinds (see ``oneclick.data.drift``). ``str()`` gives ``"<kind> <table>[.<column>] (<detail>)"``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SchemaChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    table: str
    column: str | None = None
    detail: str = ""

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return f"{self.kind} {where}" + (f" ({self.detail})" if self.detail else "")
