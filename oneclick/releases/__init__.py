"""The release catalog: every release and every deployment of a release to a stage, and the
leases that let one rollout at a time touch an app on a stage, and the pins that keep
scheduled promotions away from an app on a stage."""

from __future__ import annotations

from oneclick.releases.catalog import Catalog
from oneclick.releases.leases import LeaseAttempt, LeaseHolder, Leases
from oneclick.releases.pins import Pins
from oneclick.releases.tables import Phase
from oneclick.releases.views import DeploymentView, ReleaseView

__all__ = [
    "Catalog",
    "DeploymentView",
    "LeaseAttempt",
    "LeaseHolder",
    "Leases",
    "Phase",
    "Pins",
    "ReleaseView",
]
