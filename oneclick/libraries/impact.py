"""What a new library version breaks for an app on a stage: the impact check.

A library's static entities are enumerations: an app stores a record's key in the column of
every attribute typed ``<library>.<StaticEntity>``. A new version that removes a record (its
key is gone; a renamed key is a removal and an addition) breaks an app that still uses that
key: as a model default, or as a value stored in the stage's database. ``library_changes``
compares the versions an app runs on a stage with the versions it is about to take;
``check_impact`` finds the blockers, counting the rows that hold each removed key (reading
only). Added records are fine. A blocked app keeps the release it runs; the way out is to
keep the record in the library (publish a version with it) or to migrate the data first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict
from sqlalchemy import column, func, inspect, select, table
from sqlalchemy.sql.expression import ColumnClause

from oneclick.compiler.names import column_name, table_name
from oneclick.model.catalog import LibraryCatalog
from oneclick.model.types import AppModel


class LibraryChange(BaseModel):
    """One library an app takes in another version: the record keys that go and come."""

    model_config = ConfigDict(frozen=True)

    library: str
    old: str
    new: str
    removed: dict[str, list[str]] = {}  # static entity → keys the new version lacks
    added: dict[str, list[str]] = {}

    def __str__(self) -> str:
        def keys(found: dict[str, list[str]]) -> str:
            return "; ".join(f"{s}: {', '.join(k)}" for s, k in sorted(found.items())) or "none"

        return (
            f"{self.library} {self.old} → {self.new} (removed: {keys(self.removed)}; "
            f"added: {keys(self.added)})"
        )


class Blocker(BaseModel):
    """A removed record an app still uses: as a default (rows 0) or stored in ``rows`` rows."""

    model_config = ConfigDict(frozen=True)

    library: str
    version: str
    static: str
    key: str
    attribute: str  # Entity.Attribute
    column: str  # table.column
    rows: int
    default: bool = False

    def __str__(self) -> str:
        where = (
            f"it is the default of {self.attribute}"
            if self.default
            else f"{self.rows} row{'s' if self.rows != 1 else ''} of {self.column} "
            f"({self.attribute}) hold it"
        )
        return (
            f"{self.library} {self.version} removes {self.static} '{self.key}': {where}; keep "
            f"the record (publish a {self.library} version with it) or migrate the data "
            f"(change {self.column} '{self.key}' to another key"
            + (", and the default in the model)" if self.default else ")")
        )


class LibraryImpact(BaseModel):
    """What taking ``changes`` means for ``app`` on ``stage``; blocked when ``blockers``."""

    model_config = ConfigDict(frozen=True)

    app: str
    stage: str
    changes: list[LibraryChange] = []
    blockers: list[Blocker] = []

    @property
    def blocked(self) -> bool:
        return bool(self.blockers)

    def message(self, what: str) -> str:
        """Why ``what`` (the release) is refused on the stage, with each blocker."""
        return (
            f"{what} is refused on {self.stage}: a library version it takes removes records "
            f"{self.app} still uses; {self.stage} keeps its release:\n  "
            + "\n  ".join(str(b) for b in self.blockers)
        )


def library_changes(
    store: LibraryCatalog,
    running: Sequence[Mapping[str, str]],
    taking: Sequence[Mapping[str, str]],
) -> list[LibraryChange]:
    """The libraries ``taking`` (name/version entries of a release) names in another version
    than ``running`` does, with their removed and added record keys."""
    before = {lib["name"]: lib["version"] for lib in running}
    changes = []
    for lib in sorted(taking, key=lambda entry: entry["name"]):
        name, new = lib["name"], lib["version"]
        old = before.get(name)
        if old is None or old == new:
            continue
        old_statics = store.static_entities(name, old) or {}
        new_statics = store.static_entities(name, new) or {}
        removed, added = {}, {}
        for static in sorted(set(old_statics) | set(new_statics)):
            was, now = old_statics.get(static, []), new_statics.get(static, [])
            if gone := [key for key in was if key not in now]:
                removed[static] = gone
            if came := [key for key in now if key not in was]:
                added[static] = came
        changes.append(LibraryChange(library=name, old=old, new=new, removed=removed, added=added))
    return changes


def check_impact(
    model: AppModel, stage: str, changes: Sequence[LibraryChange], database_url: str
) -> LibraryImpact:
    """The blockers of ``model`` on ``stage`` (its database at ``database_url``)."""
    removed = {(c.library, s): (c, keys) for c in changes for s, keys in c.removed.items()}
    blockers: list[Blocker] = []
    uses = []
    for entity in model.entities:
        for attribute in entity.attributes:
            ref = attribute.library_ref
            if ref is None or ref not in removed:
                continue
            change, keys = removed[ref]
            place = {
                "library": change.library,
                "version": change.new,
                "static": ref[1],
                "attribute": f"{entity.name}.{attribute.name}",
                "column": f"{table_name(entity.name)}.{column_name(attribute.name)}",
            }
            if attribute.default in keys:
                blockers.append(Blocker(**place, key=str(attribute.default), rows=0, default=True))
            uses.append((place, keys))
    if uses:
        counts = _count_keys(database_url, [(p["column"], keys) for p, keys in uses])
        for place, keys in uses:
            for key in keys:
                rows = counts.get((place["column"], key), 0)
                if rows:
                    blockers.append(Blocker(**place, key=key, rows=rows))
    return LibraryImpact(app=model.app, stage=stage, changes=list(changes), blockers=blockers)


def _count_keys(url: str, columns: list[tuple[str, list[str]]]) -> dict[tuple[str, str], int]:
    """(table.column, key) → how many rows hold the key; missing tables or columns hold none."""
    from oneclick.data.engine import read_only

    counts: dict[tuple[str, str], int] = {}
    with read_only(url) as connection:
        inspector = inspect(connection)
        for place, keys in columns:
            table_name_, column_name_ = place.split(".")
            if not inspector.has_table(table_name_):
                continue
            if column_name_ not in {c["name"] for c in inspector.get_columns(table_name_)}:
                continue
            held: ColumnClause[str] = column(column_name_)
            query = (
                select(held, func.count())
                .select_from(table(table_name_, held))
                .where(held.in_(keys))
                .group_by(held)
            )
            for key, count in connection.execute(query):
                counts[(place, str(key))] = int(count)
    return counts
