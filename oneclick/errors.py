"""Every error oneclick raises on purpose.

A message says what was expected, what was found, where, and what to do. Lower-level errors
are wrapped with ``raise ... from exc``. Only ``TransientError`` (and its subclasses) are
retried by the Prefect tasks; everything else fails the run at once.

    OneclickError
    ├── ModelError          a model file is wrong (carries every Problem found, file:line:column)
    ├── LibraryError        a library build is missing, or a published version would change
    │   └── LibraryImpactError  a release takes a library version that removes records in use
    ├── StageError          an unknown stage, or a stage that lacks what a release needs
    ├── BuildError          compiling or assembling an image failed
    ├── SchemaError         a database change is refused or failed; the database is left as it was
    ├── DeployError         a release could not be started or never became ready
    ├── CatalogError        the release catalog has no such release, or cannot be opened
    └── TransientError      a fault that may pass on retry (a busy database, a refused connection)
"""

from __future__ import annotations

from dataclasses import dataclass


class OneclickError(Exception):
    """The root of every error oneclick raises on purpose."""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a model file, with where it is (1-based line and column)."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class ModelError(OneclickError):
    """A model file is wrong. ``problems`` holds every problem found, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the model"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.problems))


class LibraryError(OneclickError):
    """A library build is missing, or publishing would change an immutable version."""


class LibraryImpactError(LibraryError):
    """A release takes a library version that removes records its app still uses on a stage
    (as a default, or stored in the stage's database): the stage keeps its release."""


class StageError(OneclickError):
    """An unknown stage, or a stage whose configuration lacks what a release needs."""


class BuildError(OneclickError):
    """Compiling an app or library, or assembling its image, failed."""


class SchemaError(OneclickError):
    """A database change was refused or failed; the database is left as it was."""


class DeployError(OneclickError):
    """A release could not be started on a stage, or never became ready."""


class CatalogError(OneclickError):
    """The release catalog cannot be opened, or has no such release."""


class TransientError(OneclickError):
    """A fault that may pass if the same step is tried again."""
