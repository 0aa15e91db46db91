"""Who uses a library, and what one of its versions means for each of them.

A consumer is an app whose newest release lists the library in its model (``libraries:``,
an exact version or a range). ``find_consumers`` answers, for a library version, every
consumer with the stages its releases run on, the version each bundles there, and whether
its requirement admits the new version (else it is *pinned* and keeps what it has).
``stage_impact`` is the check a rollout makes: the libraries a release takes compared with
what the stage runs now, and the blockers that leaves (``oneclick.libraries.impact``).
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from oneclick.libraries.impact import LibraryImpact, check_impact, library_changes
from oneclick.model.catalog import LibraryCatalog
from oneclick.model.semver import parse_range
from oneclick.model.types import AppModel
from oneclick.releases import Catalog, ReleaseView

DatabaseUrl = Callable[[str, str], str | None]
"""(stage, app) → the app's database URL on that stage (None: the stage is unknown)."""


class ConsumerStage(BaseModel):
    """One stage a consumer runs on: its release there, the library version it bundles, and
    what taking the new version would do there."""

    model_config = ConfigDict(frozen=True)

    stage: str
    release: str
    bundled: str | None
    impact: LibraryImpact | None = None


class Consumer(BaseModel):
    """An app whose newest release lists the library; ``admits``: its requirement takes the
    new version (else the app is pinned to what its requirement names)."""

    model_config = ConfigDict(frozen=True)

    app: str
    release: ReleaseView
    requirement: str
    admits: bool
    stages: list[ConsumerStage] = []

    @property
    def blockers(self) -> int:
        return sum(len(s.impact.blockers) for s in self.stages if s.impact is not None)


def requirement_of(release: ReleaseView, library: str) -> str | None:
    """The version or range ``release``'s model names for ``library`` (None: not listed)."""
    for ref in release.model.get("libraries", []):
        if ref.get("name") == library:
            return str(ref.get("version"))
    return None


def bundled_version(release: ReleaseView, library: str) -> str | None:
    return next((lib["version"] for lib in release.libraries if lib["name"] == library), None)


def find_consumers(
    catalog: Catalog,
    store: LibraryCatalog,
    library: str,
    version: str,
    database_url: DatabaseUrl | None = None,
) -> list[Consumer]:
    """Every consumer of ``library``, by app, against ``version``; with ``database_url``, the
    impact of taking it on each stage the consumer runs on."""
    newest: dict[str, ReleaseView] = {}
    for release in catalog.releases():  # newest first
        newest.setdefault(release.app, release)
    running: dict[str, list[tuple[str, str]]] = {}
    for deployment in catalog.status():
        running.setdefault(deployment.app, []).append((deployment.stage, deployment.version))
    consumers = []
    for app, release in sorted(newest.items()):
        requirement = requirement_of(release, library)
        if requirement is None:
            continue
        stages = []
        for stage, running_version in running.get(app, []):
            there = catalog.release(app, running_version)
            bundled = bundled_version(there, library)
            url = database_url(stage, app) if database_url is not None else None
            impact = None
            if url is not None and bundled is not None and bundled != version:
                taking = [{"name": library, "version": version}]
                changes = library_changes(store, there.libraries, taking)
                model = AppModel.model_validate(there.model)
                impact = check_impact(model, stage, changes, url)
            stages.append(
                ConsumerStage(stage=stage, release=there.version, bundled=bundled, impact=impact)
            )
        admits = parse_range(requirement).admits(version)
        consumers.append(
            Consumer(
                app=app, release=release, requirement=requirement, admits=admits, stages=stages
            )
        )
    return consumers


def stage_impact(
    catalog: Catalog, store: LibraryCatalog, release: ReleaseView, stage: str, database_url: str
) -> LibraryImpact | None:
    """What ``release`` taking its libraries means on ``stage``, compared with the release the
    stage runs now; None when it runs none, or the same library versions."""
    current = catalog.current(release.app, stage)
    if current is None or current.version == release.version:
        return None
    running = catalog.release(release.app, current.version)
    changes = library_changes(store, running.libraries, release.libraries)
    if not changes:
        return None
    model = AppModel.model_validate(release.model)
    return check_impact(model, stage, changes, database_url)
