"""What the catalog says of each app a scheduled promotion may take: the facts
``decide`` weighs (kept apart from ``evaluate`` so that stays a pure function)."""

from __future__ import annotations

from oneclick.policies.evaluate import Candidate
from oneclick.releases import Catalog, DeploymentView, Phase, Pins
from oneclick.stages import StageConfig

_OUTCOMES = (Phase.SUCCEEDED, Phase.FAILED, Phase.ERRORED, Phase.UNDEPLOYED)


def _refusal(record: DeploymentView) -> str:
    why = record.message.splitlines()[0] if record.message else "no reason recorded"
    return f"{record.version} {record.phase.value}: {why}"


def gather(catalog: Catalog, source: str, target: StageConfig) -> list[Candidate]:
    """One candidate per app that was ever deployed to ``source``, in app order."""
    pins = Pins(catalog).of(target.name)
    running = {(view.app, view.stage): view for view in catalog.status()}
    latest: dict[str, DeploymentView] = {}
    for record in catalog.deployments(limit=None, stage=source):
        if record.phase in _OUTCOMES:
            latest.setdefault(record.app, record)
    candidates = []
    for app, last in sorted(latest.items()):
        on_source = running.get((app, source))
        on_target = running.get((app, target.name))
        missing = None
        if on_source is not None:
            manifest = catalog.release(app, on_source.version).manifest
            missing = ", ".join(target.missing_configuration(manifest)) or None
        refused = last.phase in (Phase.FAILED, Phase.ERRORED)
        candidates.append(
            Candidate(
                app,
                source_version=on_source.version if on_source else None,
                source_since=(on_source.finished_at or on_source.started_at) if on_source else None,
                source_refused=_refusal(last) if refused else None,
                target_version=on_target.version if on_target else None,
                pin=pins.get((app, target.name)),
                config_missing=missing,
            )
        )
    return candidates
