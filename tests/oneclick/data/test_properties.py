"""A property, on real SQLite and PostgreSQL: whatever way a model evolves within what the
policy allows (entities and attributes added, deleted, renamed, widened, relaxed, indexed),
no row and no value is lost, and the database ends exactly at the model's schema.

Hypothesis draws a first model and up to three evolutions of it; before each release every
table of the current model gets rows. Bounded (and derandomized, so a run is repeatable) to
stay well under a minute per backend.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneclick.compiler.names import column_name, table_name
from tests.oneclick.data.data_support import (
    app,
    assert_kept,
    dump,
    fill,
    full_plan,
    release,
)
from tests.oneclick.data.local_postgres import LocalPostgres

BASIC = ["text", "integer", "long", "decimal", "boolean", "date", "datetime", "email"]
DEFAULTS: dict[str, Any] = {
    "text": "none",
    "email": "x@example.org",
    "integer": 7,
    "long": 7,
    "decimal": 1,
    "boolean": True,
    "date": "2030-01-01",
    "datetime": "2030-01-01T10:00:00",
}


class Evolution:
    """A model being evolved, and the renames of the step being drawn."""

    def __init__(self) -> None:
        self.entities: dict[str, dict[str, Any]] = {}
        self.counter = 0
        self.tables: dict[str, str] = {}
        self.columns: dict[tuple[str, str], str] = {}

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def model(self) -> Any:
        return app(*self.entities.values())

    def start_step(self) -> None:
        self.tables, self.columns = {}, {}
        for spec in self.entities.values():
            spec.pop("renamed_from", None)
            for attribute in spec["attributes"]:
                attribute.pop("renamed_from", None)

    def old_table(self, entity: str) -> str:
        """The table the entity had before this step."""
        old = self.entities[entity].get("renamed_from", entity)
        return table_name(old)


def draw_attribute(data: st.DataObject, evolution: Evolution, new_table: bool) -> dict[str, Any]:
    kinds = BASIC + list(evolution.entities)
    kind = data.draw(st.sampled_from(kinds))
    attribute: dict[str, Any] = {"name": evolution.fresh("A"), "type": kind}
    if kind == "text":
        attribute["length"] = data.draw(st.integers(5, 60))
    if kind == "decimal":
        precision = data.draw(st.integers(4, 20))
        attribute |= {"precision": precision, "scale": data.draw(st.integers(0, min(4, precision)))}
    if kind in BASIC and data.draw(st.booleans()):
        attribute["mandatory"] = True
        if not new_table or data.draw(st.booleans()):
            attribute["default"] = DEFAULTS[kind]
    return attribute


def add_entity(data: st.DataObject, evolution: Evolution) -> None:
    name = evolution.fresh("E")
    count = data.draw(st.integers(1, 3))
    attributes = [draw_attribute(data, evolution, new_table=True) for _ in range(count)]
    evolution.entities[name] = {"name": name, "attributes": attributes}


def pick(data: st.DataObject, evolution: Evolution) -> dict[str, Any]:
    return evolution.entities[data.draw(st.sampled_from(sorted(evolution.entities)))]


def add_attribute(data: st.DataObject, evolution: Evolution) -> None:
    pick(data, evolution)["attributes"].append(draw_attribute(data, evolution, new_table=False))


def delete_attribute(data: st.DataObject, evolution: Evolution) -> None:
    spec = pick(data, evolution)
    if len(spec["attributes"]) < 2:
        return
    gone = spec["attributes"].pop(data.draw(st.integers(0, len(spec["attributes"]) - 1)))
    spec["indexes"] = [i for i in spec.get("indexes", []) if gone["name"] not in i["attributes"]]


def delete_entity(data: st.DataObject, evolution: Evolution) -> None:
    if len(evolution.entities) < 2:
        return
    gone = pick(data, evolution)["name"]
    del evolution.entities[gone]
    for spec in evolution.entities.values():
        kept = [a for a in spec["attributes"] if a["type"] != gone]
        dropped = {a["name"] for a in spec["attributes"]} - {a["name"] for a in kept}
        spec["attributes"] = kept or [{"name": evolution.fresh("A"), "type": "text"}]
        spec["indexes"] = [i for i in spec.get("indexes", []) if not set(i["attributes"]) & dropped]


def widen(data: st.DataObject, evolution: Evolution) -> None:
    attribute = data.draw(st.sampled_from(pick(data, evolution)["attributes"]))
    kind = attribute["type"]
    if kind == "text":
        attribute["length"] += data.draw(st.integers(1, 100))
    elif kind == "integer" and data.draw(st.booleans()):
        attribute["type"] = "long"
    elif kind in ("integer", "long"):
        scale = data.draw(st.integers(0, 4))
        whole = 10 if kind == "integer" else 19
        attribute |= {"type": "decimal", "precision": whole + scale, "scale": scale}
    elif kind == "decimal":
        more_scale = data.draw(st.integers(0, 2))
        attribute["precision"] += more_scale + data.draw(st.integers(0, 4))
        attribute["scale"] += more_scale
    elif kind == "date":
        attribute["type"] = "datetime"
        if "default" in attribute:
            attribute["default"] = "2030-01-01T00:00:00"


def relax(data: st.DataObject, evolution: Evolution) -> None:
    attribute = data.draw(st.sampled_from(pick(data, evolution)["attributes"]))
    attribute["mandatory"] = False


def rename_attribute(data: st.DataObject, evolution: Evolution) -> None:
    spec = pick(data, evolution)
    attribute = data.draw(st.sampled_from(spec["attributes"]))
    if "renamed_from" in attribute:
        return
    old, new = attribute["name"], evolution.fresh("A")
    attribute |= {"name": new, "renamed_from": old}
    evolution.columns[(evolution.old_table(spec["name"]), column_name(old))] = column_name(new)
    for index in spec.get("indexes", []):
        index["attributes"] = [new if a == old else a for a in index["attributes"]]


def rename_entity(data: st.DataObject, evolution: Evolution) -> None:
    spec = pick(data, evolution)
    if "renamed_from" in spec:
        return
    old, new = spec["name"], evolution.fresh("E")
    spec |= {"name": new, "renamed_from": old}
    evolution.entities = {(new if k == old else k): v for k, v in evolution.entities.items()}
    for other in evolution.entities.values():
        for attribute in other["attributes"]:
            if attribute["type"] == old:
                attribute["type"] = new
    evolution.tables[table_name(old)] = table_name(new)


def add_index(data: st.DataObject, evolution: Evolution) -> None:
    spec = pick(data, evolution)
    attribute = data.draw(st.sampled_from(spec["attributes"]))
    indexes = spec.setdefault("indexes", [])
    if {"attributes": [attribute["name"]]} not in indexes:
        indexes.append({"attributes": [attribute["name"]]})


MUTATIONS = [
    add_entity,
    add_attribute,
    delete_attribute,
    delete_entity,
    widen,
    relax,
    rename_attribute,
    rename_entity,
    add_index,
]


@contextmanager
def fresh_database(backend: str, request: pytest.FixtureRequest) -> Iterator[str]:
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="oneclick-property-"))
        try:
            yield f"sqlite:///{folder / 'stage.db'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    server: LocalPostgres = request.getfixturevalue("postgres")
    url = server.create_database("property")
    try:
        yield url
    finally:
        server.drop_database(url)


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_no_evolution_loses_a_row_or_a_value(
    backend: str, request: pytest.FixtureRequest, data: st.DataObject
) -> None:
    evolution = Evolution()
    for _ in range(data.draw(st.integers(1, 3))):
        add_entity(data, evolution)
    with fresh_database(backend, request) as url:
        model = evolution.model()
        release(url, model, "1")
        for step in range(data.draw(st.integers(1, 3))):
            fill(url, model, rows=2, seed=step)
            before = dump(url)
            evolution.start_step()
            for mutation in data.draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3)):
                mutation(data, evolution)
            model = evolution.model()
            result = release(url, model, f"{step + 2}")
            assert not result.fast_path or not result.changes
            assert_kept(before, dump(url), evolution.tables, evolution.columns)
            assert full_plan(url, model).changes == []
            assert release(url, model, f"{step + 2}").fast_path
        fill(url, model, rows=1, seed=99)  # the app's writes work on the final schema
