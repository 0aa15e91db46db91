"""The app description that the generated server and client both work from.

``describe_app`` returns plain JSON-compatible data: the app's name, title and version; per
entity its shown name (``title``), table, API path, label attribute (the first text
attribute, shown for a record) and resolved attributes, each with its shown name; the
screens with their titles and pages; the settings (defaults as strings, parsed by the server
at start); the secret names; and the bundled libraries, each after the libraries it bundles
(so a library's stylesheet loads after, and may refine, those of its own libraries).
``check_libraries`` makes sure the library builds given to the compiler cover every library
and static entity the model uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oneclick.compiler.attributes import AttributeInfo, describe_attribute, typed_value
from oneclick.compiler.names import api_path, display_name, page_name, table_name
from oneclick.errors import BuildError
from oneclick.libraries.build import LibraryBuild
from oneclick.model.semver import parse_range
from oneclick.model.types import AppModel, Entity, Screen, Setting

LIBRARY_STYLES = "styles.css"


def check_libraries(model: AppModel, libraries: Sequence[LibraryBuild]) -> None:
    """BuildError unless ``libraries`` holds each used library (and static entity) once."""
    builds: dict[str, LibraryBuild] = {}
    for build in libraries:
        if build.name in builds:
            raise BuildError(
                f"library {build.name} was given twice (versions {builds[build.name].version} "
                f"and {build.version}); pass each library of the closure once"
            )
        builds[build.name] = build
    for ref in model.libraries:
        found = builds.get(ref.name)
        if found is None or not parse_range(ref.version).admits(found.version):
            have = f"version {found.version}" if found else "no build"
            raise BuildError(
                f"app {model.app} uses library {ref.name} {ref.version}, found {have}; "
                "publish that library version and resolve the library builds again"
            )
    for entity in model.entities:
        for attribute in entity.attributes:
            _check_static(builds, entity, attribute.name, attribute.library_ref)


def _check_static(
    builds: dict[str, LibraryBuild], entity: Entity, name: str, ref: tuple[str, str] | None
) -> None:
    if ref is None:
        return
    build = builds.get(ref[0])
    if build is None or ref[1] not in build.static_entities:
        raise BuildError(
            f"{entity.name}.{name}: expected static entity {ref[1]} in library {ref[0]}, "
            "found no such library build or entity; add the library to the app's libraries"
        )


def describe_app(model: AppModel, libraries: Sequence[LibraryBuild]) -> dict[str, Any]:
    """The JSON-compatible description of the app (see the module docstring)."""
    return {
        "app": model.app,
        "title": model.display_title,
        "version": model.version,
        "entities": [_entity(model, e) for e in model.entities],
        "screens": [_screen(s) for s in model.screens],
        "settings": [_setting(s) for s in model.settings],
        "secrets": [s.name for s in model.secrets],
        "libraries": [
            {
                "name": build.name,
                "version": build.version,
                "styles": (build.path / LIBRARY_STYLES).is_file(),
            }
            for build in dependency_order(libraries)
        ],
    }


def dependency_order(libraries: Sequence[LibraryBuild]) -> list[LibraryBuild]:
    """Each library after the libraries it bundles; otherwise by name (deterministic)."""
    pending = {build.name: build for build in libraries}
    ordered: list[LibraryBuild] = []
    while pending:
        ready = [b for b in pending.values() if not any(r.name in pending for r in b.libraries)]
        # a cycle cannot be published; should one reach us, keep going in name order
        chosen = min(ready or pending.values(), key=lambda b: b.name)
        ordered.append(pending.pop(chosen.name))
    return ordered


def _entity(model: AppModel, entity: Entity) -> dict[str, Any]:
    attributes = [describe_attribute(model, entity, a) for a in entity.attributes]
    label = next((a.name for a in attributes if a.kind == "text"), None)
    return {
        "name": entity.name,
        "title": display_name(entity.name),
        "table": table_name(entity.name),
        "path": api_path(entity.name),
        "label": label,
        "attributes": [_attribute(a) for a in attributes],
    }


def _attribute(info: AttributeInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "title": display_name(info.name),
        "column": info.column,
        "type": info.kind,
        "mandatory": info.mandatory,
        "length": info.length,
        "precision": info.precision,
        "scale": info.scale,
        "entity": info.entity,
        "library": info.library,
        "static": info.static,
        "default": info.json_default(),
    }


def _screen(screen: Screen) -> dict[str, Any]:
    return {
        "name": screen.name,
        "kind": screen.kind,
        "entity": screen.entity,
        "title": screen.title or display_name(screen.name),
        "page": page_name(screen.name),
    }


def _setting(setting: Setting) -> dict[str, Any]:
    default = setting.default
    if default is not None:
        typed_value(setting.type, default, f"setting {setting.name}")
        default = str(default).lower() if isinstance(default, bool) else str(default)
    return {"name": setting.name, "type": setting.type, "default": default}
