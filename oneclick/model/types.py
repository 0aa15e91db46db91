"""The pydantic shape of app and library models, as DESIGN.md describes them.

These classes check each value on its own (name formats, unknown keys, scalar types).
Checks that need the whole model or the published libraries (duplicates, references,
library versions, default types) live in ``oneclick.model.checks``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

APP_NAME = r"^[a-z][a-z0-9-]{1,39}$"
LIBRARY_NAME = APP_NAME
PASCAL_NAME = r"^[A-Z][A-Za-z0-9]{0,62}$"
RECORD_KEY = r"^[A-Za-z][A-Za-z0-9_]{0,62}$"
SEMVER = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$"
)

BASIC_TYPES = (
    "text",
    "integer",
    "long",
    "decimal",
    "boolean",
    "date",
    "datetime",
    "email",
    "phone",
)
Scalar = str | int | float | bool


class Strict(BaseModel):
    """Unknown keys are errors; models are values."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class LibraryRef(Strict):
    name: str = Field(pattern=LIBRARY_NAME, description="a published library's name")
    version: str = Field(pattern=SEMVER, description="its semantic version")


class LibraryRequirement(Strict):
    """An app's library: an exact version or a range (``oneclick.model.semver``); publish
    bundles the newest published version the range admits."""

    name: str = Field(pattern=LIBRARY_NAME, description="a published library's name")
    version: str = Field(
        min_length=1, description="an exact version (1.2.0) or a range (^1.2.0, ~1.2)"
    )


class Attribute(Strict):
    name: str = Field(pattern=PASCAL_NAME)
    type: str = Field(
        min_length=1,
        description="a basic type, an entity of the app, or <library>.<StaticEntity>",
    )
    length: int | None = Field(default=None, ge=1, le=100_000, description="text only")
    precision: int | None = Field(default=None, ge=1, le=38, description="decimal only")
    scale: int | None = Field(default=None, ge=0, le=38, description="decimal only")
    mandatory: bool = False
    default: Scalar | None = None
    renamed_from: str | None = Field(default=None, pattern=PASCAL_NAME)

    @property
    def is_basic(self) -> bool:
        return self.type in BASIC_TYPES

    @property
    def library_ref(self) -> tuple[str, str] | None:
        """(library, static entity) when the type names a library's static entity."""
        if "." not in self.type:
            return None
        library, _, entity = self.type.partition(".")
        return library, entity


class Index(Strict):
    attributes: list[str] = Field(min_length=1)
    unique: bool = False


class Entity(Strict):
    name: str = Field(pattern=PASCAL_NAME)
    attributes: list[Attribute] = Field(min_length=1)
    indexes: list[Index] = []
    renamed_from: str | None = Field(default=None, pattern=PASCAL_NAME)

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)


class Screen(Strict):
    name: str = Field(pattern=PASCAL_NAME)
    kind: Literal["list", "form"]
    entity: str = Field(pattern=PASCAL_NAME)
    title: str | None = None


class Setting(Strict):
    name: str = Field(pattern=PASCAL_NAME)
    type: Literal["text", "integer", "long", "decimal", "boolean", "date", "datetime", "email"]
    default: Scalar | None = None


class Secret(Strict):
    name: str = Field(pattern=PASCAL_NAME)


class AppModel(Strict):
    app: str = Field(pattern=APP_NAME)
    title: str | None = None
    version: str = Field(default="0.1.0", pattern=SEMVER)
    libraries: list[LibraryRequirement] = []
    entities: list[Entity] = []
    screens: list[Screen] = []
    settings: list[Setting] = []
    secrets: list[Secret] = []

    @property
    def display_title(self) -> str:
        return self.title or self.app

    def entity(self, name: str) -> Entity | None:
        return next((e for e in self.entities if e.name == name), None)


class Record(Strict):
    key: str = Field(pattern=RECORD_KEY)
    label: str = Field(min_length=1)


class StaticEntity(Strict):
    name: str = Field(pattern=PASCAL_NAME)
    records: list[Record] = Field(min_length=1)


class LibraryModel(Strict):
    library: str = Field(pattern=LIBRARY_NAME)
    version: str = Field(pattern=SEMVER)
    title: str | None = None
    libraries: list[LibraryRef] = []
    static_entities: list[StaticEntity] = []
    styles: str | None = Field(default=None, description="a CSS file beside the model")
