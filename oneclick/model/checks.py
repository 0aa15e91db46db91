"""Checks that need the whole model, or the published libraries.

``check_app(source, catalog)`` and ``check_library(source, catalog, directory)`` validate a
parsed source (``oneclick.model.validation``) and then check what no single value can show:
unique names, attribute types that exist (basic types, entities of the app, static entities
of listed libraries), length/precision/scale on the right types, defaults that fit their
type, screens and indexes naming what exists, names that collide with the automatic ``Id``
or with each other, library references that are published, and for a library its record
keys and styles file. Every problem found is reported together in one ``ModelError``.

Library lookups go through ``LibraryCatalog``. Dependency cycles between libraries are found
by the library store when it resolves them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from oneclick.errors import ModelError
from oneclick.model.catalog import LibraryCatalog
from oneclick.model.report import ProblemReport, names, suggest
from oneclick.model.semver import is_semver, newest_match
from oneclick.model.source import DataPath, Source
from oneclick.model.types import (
    BASIC_TYPES,
    AppModel,
    Attribute,
    Entity,
    LibraryModel,
    LibraryRef,
    LibraryRequirement,
)
from oneclick.model.validation import validate_source
from oneclick.model.values import default_problem

Statics = Mapping[str, Sequence[str]]
"""A published library's static entities: name → record keys."""

_ID = "Id"


def check_app(source: Source, catalog: LibraryCatalog) -> AppModel:
    """The app model in ``source``, or ModelError with every problem found."""
    result = validate_source(source, AppModel)
    report = ProblemReport(source, result.index_map, result.pruned)
    report.extend(source.problems)
    report.extend(result.problems)
    if result.model is not None:
        _AppChecker(result.model, catalog, report).run()
    if report.problems or result.model is None:
        raise ModelError(report.problems)
    return result.model


def check_library(source: Source, catalog: LibraryCatalog, directory: Path) -> LibraryModel:
    """The library model in ``source`` (a file in ``directory``), or ModelError."""
    result = validate_source(source, LibraryModel)
    report = ProblemReport(source, result.index_map, result.pruned)
    report.extend(source.problems)
    report.extend(result.problems)
    if result.model is not None:
        _check_library_model(result.model, catalog, report, directory)
    if report.problems or result.model is None:
        raise ModelError(report.problems)
    return result.model


# --- shared -----------------------------------------------------------------------------


def check_unique(report: ProblemReport, items: Sequence[str], path: DataPath, noun: str) -> None:
    """Report every name in ``items`` (the list at ``path``) that repeats an earlier one."""
    first: dict[str, int] = {}
    for index, name in enumerate(items):
        if name in first:
            line = report.position((*path, first[name])).line
            report.add(
                (*path, index, "name"),
                f"{noun} '{name}' is declared twice (first at line {line}); "
                "names must be unique: rename or remove one",
            )
        else:
            first[name] = index


def check_library_refs(
    report: ProblemReport,
    refs: Sequence[LibraryRef | LibraryRequirement],
    catalog: LibraryCatalog,
    *,
    own_name: str | None = None,
    resolved: dict[str, str] | None = None,
) -> dict[str, Statics | None]:
    """Check ``libraries:``; answer each listed library's static entities (None: unknown).
    An app's ranges are resolved to the newest published match, put in ``resolved``."""
    check_unique(report, [ref.name for ref in refs], ("libraries",), "library")
    found: dict[str, Statics | None] = {}
    for index, ref in enumerate(refs):
        path = ("libraries", index)
        if ref.name in found:
            continue
        if ref.name == own_name:
            report.add((*path, "name"), f"library '{ref.name}' lists itself under libraries:")
            continue
        found[ref.name] = None
        try:
            published = catalog.versions(ref.name)
            version = newest_match(ref.version, published)
        except ValueError as exc:
            report.add((*path, "version"), f"library '{ref.name}' version {exc}")
            continue
        if not published:
            report.add(
                (*path, "name"),
                f"library '{ref.name}' is not published; publish it first "
                "(oneclick publish library PATH) or correct the name",
            )
        elif version is None:
            report.add(
                (*path, "version"),
                f"library '{ref.name}' has no published version "
                f"{'' if is_semver(ref.version) else 'matching '}{ref.version}; "
                f"published versions: {names(published)}",
            )
        else:
            found[ref.name] = catalog.static_entities(ref.name, version)
            if resolved is not None:
                resolved[ref.name] = version
    return found


# --- apps -------------------------------------------------------------------------------


class _AppChecker:
    """The whole-model checks of one app; problems go to ``report``."""

    def __init__(self, app: AppModel, catalog: LibraryCatalog, report: ProblemReport) -> None:
        self.app = app
        self.catalog = catalog
        self.report = report
        self.entity_names = {entity.name for entity in app.entities}
        self.pruned_entities = report.pruned_names(("entities",))
        self.versions = {ref.name: ref.version for ref in app.libraries}
        self.listed = set(self.versions) | report.pruned_names(("libraries",))
        self.libraries: dict[str, Statics | None] = {}

    def run(self) -> None:
        app, report = self.app, self.report
        self.libraries = check_library_refs(
            report, app.libraries, self.catalog, resolved=self.versions
        )
        check_unique(report, [e.name for e in app.entities], ("entities",), "entity")
        for index, entity in enumerate(app.entities):
            self.check_entity(entity, ("entities", index))
        check_unique(report, [s.name for s in app.screens], ("screens",), "screen")
        self.check_screens()
        check_unique(report, [s.name for s in app.settings], ("settings",), "setting")
        check_unique(report, [s.name for s in app.secrets], ("secrets",), "secret")
        self.check_settings()

    def check_entity(self, entity: Entity, path: DataPath) -> None:
        attributes = [attribute.name for attribute in entity.attributes]
        check_unique(self.report, attributes, (*path, "attributes"), "attribute")
        for number, attribute in enumerate(entity.attributes):
            self.check_attribute(entity, attribute, (*path, "attributes", number))
        if entity.renamed_from is not None and entity.renamed_from in self.entity_names:
            self.report.add(
                (*path, "renamed_from"),
                f"entity '{entity.name}' is renamed from '{entity.renamed_from}', which still "
                "exists; remove renamed_from or the old entity",
            )
        known = {*attributes, _ID} | self.report.pruned_names((*path, "attributes"))
        for number, index in enumerate(entity.indexes):
            seen: set[str] = set()
            for position, name in enumerate(index.attributes):
                where = (*path, "indexes", number, "attributes", position)
                if name not in known:
                    self.report.add(
                        where,
                        f"index on unknown attribute '{name}' of entity '{entity.name}'; "
                        f"its attributes: {names(attributes)}" + suggest(name, attributes),
                    )
                elif name in seen:
                    self.report.add(where, f"index lists attribute '{name}' twice")
                seen.add(name)

    def check_attribute(self, entity: Entity, attribute: Attribute, path: DataPath) -> None:
        report, name = self.report, attribute.name
        if name.lower() == _ID.lower():
            report.add(
                (*path, "name"),
                f"attribute '{name}' collides with the automatic '{_ID}' every entity has; "
                "choose another name",
            )
        records = self.check_type(attribute, path)
        self.check_sizes(attribute, path)
        if attribute.renamed_from is not None and entity.attribute(attribute.renamed_from):
            report.add(
                (*path, "renamed_from"),
                f"attribute '{name}' is renamed from '{attribute.renamed_from}', which still "
                f"exists in entity '{entity.name}'; remove renamed_from or the old attribute",
            )
        if attribute.default is None:
            return
        if attribute.type in self.entity_names:
            report.add((*path, "default"), "a reference to an entity cannot have a default")
            return
        if records is None and not attribute.is_basic:
            return
        expected = default_problem(
            attribute.type,
            attribute.default,
            length=attribute.length,
            precision=attribute.precision,
            scale=attribute.scale,
            records=records,
        )
        if expected is not None:
            report.add(
                (*path, "default"),
                f"default of attribute '{name}' ({attribute.type}): expected {expected}, "
                f"found {_shown(attribute.default)}",
            )

    def check_type(self, attribute: Attribute, path: DataPath) -> list[str] | None:
        """Report an attribute type that names nothing; the record keys for a static one."""
        type_name = attribute.type
        if attribute.is_basic or type_name in self.entity_names:
            return None
        if type_name in self.pruned_entities:
            return None
        where = (*path, "type")
        library_ref = attribute.library_ref
        if library_ref is None:
            options = [*BASIC_TYPES, *sorted(self.entity_names), *self._static_types()]
            self.report.add(
                where,
                f"unknown type '{type_name}' for attribute '{attribute.name}'; expected a basic "
                f"type ({', '.join(BASIC_TYPES)}), an entity of this app "
                f"({names(sorted(self.entity_names))}) or <library>.<StaticEntity>"
                + suggest(type_name, options),
            )
            return None
        library, static = library_ref
        if library not in self.listed:
            self.report.add(
                where,
                f"type '{type_name}' uses library '{library}', which is not listed under "
                f"libraries:; add {{name: {library}, version: ...}} there"
                + suggest(library, sorted(self.listed)),
            )
            return None
        statics = self.libraries.get(library)
        if statics is None:
            return None
        if static not in statics:
            self.report.add(
                where,
                f"library '{library}' {self.versions[library]} has no static entity "
                f"'{static}'; it has: {names(sorted(statics))}" + suggest(static, statics),
            )
            return None
        return list(statics[static])

    def _static_types(self) -> list[str]:
        return [
            f"{library}.{static}"
            for library, statics in sorted(self.libraries.items())
            for static in sorted(statics or {})
        ]

    def check_sizes(self, attribute: Attribute, path: DataPath) -> None:
        report, type_name = self.report, attribute.type
        if attribute.length is not None and type_name != "text":
            report.add(
                (*path, "length"),
                f"length applies only to text attributes, and '{attribute.name}' is "
                f"{type_name}; remove length",
                at_key=True,
            )
        for key, value in (("precision", attribute.precision), ("scale", attribute.scale)):
            if value is not None and type_name != "decimal":
                report.add(
                    (*path, key),
                    f"{key} applies only to decimal attributes, and '{attribute.name}' is "
                    f"{type_name}; remove {key}",
                    at_key=True,
                )
        precision, scale = attribute.precision, attribute.scale
        if precision is not None and scale is not None and scale > precision:
            report.add(
                (*path, "scale"),
                f"scale {scale} is larger than precision {precision}; the scale counts the "
                "digits after the point and must be at most the precision",
            )

    def check_screens(self) -> None:
        entities = sorted(self.entity_names)
        for index, screen in enumerate(self.app.screens):
            name = screen.entity
            if name in self.entity_names or name in self.pruned_entities:
                continue
            self.report.add(
                ("screens", index, "entity"),
                f"screen '{screen.name}' shows entity '{name}', which this app does not "
                f"declare; entities: {names(entities)}" + suggest(name, entities),
            )

    def check_settings(self) -> None:
        settings: dict[str, int] = {}
        for index, setting in enumerate(self.app.settings):
            settings.setdefault(setting.name, index)
            if setting.default is None:
                continue
            expected = default_problem(setting.type, setting.default, length=100_000)
            if expected is not None:
                self.report.add(
                    ("settings", index, "default"),
                    f"default of setting '{setting.name}' ({setting.type}): expected "
                    f"{expected}, found {_shown(setting.default)}",
                )
        for index, secret in enumerate(self.app.secrets):
            if secret.name in settings:
                line = self.report.position(("settings", settings[secret.name])).line
                self.report.add(
                    ("secrets", index, "name"),
                    f"secret '{secret.name}' has the same name as a setting (line {line}); "
                    "settings and secrets share the environment: rename one",
                )


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"'{value}'" if isinstance(value, str) else str(value)


# --- libraries --------------------------------------------------------------------------


def _check_library_model(
    library: LibraryModel, catalog: LibraryCatalog, report: ProblemReport, directory: Path
) -> None:
    check_library_refs(report, library.libraries, catalog, own_name=library.library)
    statics = [static.name for static in library.static_entities]
    check_unique(report, statics, ("static_entities",), "static entity")
    for index, static in enumerate(library.static_entities):
        first: dict[str, int] = {}
        path = ("static_entities", index, "records")
        for number, record in enumerate(static.records):
            if record.key in first:
                line = report.position((*path, first[record.key])).line
                report.add(
                    (*path, number, "key"),
                    f"record key '{record.key}' appears twice in static entity "
                    f"'{static.name}' (first at line {line}); keys must be unique",
                )
            first.setdefault(record.key, number)
    if library.styles is not None:
        _check_styles(library.styles, report, directory)


def _check_styles(styles: str, report: ProblemReport, directory: Path) -> None:
    relative = PurePosixPath(styles)
    if relative.is_absolute() or ".." in relative.parts or "\\" in styles:
        report.add(
            ("styles",),
            f"styles must name a file beside the model (such as theme.css), found '{styles}'",
        )
    elif not (directory / relative).is_file():
        report.add(
            ("styles",),
            f"styles file '{styles}' does not exist beside the model (looked for "
            f"{directory / relative}); create it or remove styles:",
        )
