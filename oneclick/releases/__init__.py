"""The release catalog: every release and every deployment of a release to a stage."""

from __future__ import annotations

from oneclick.releases.catalog import Catalog, DeploymentView, ReleaseView
from oneclick.releases.tables import Phase

__all__ = ["Catalog", "DeploymentView", "Phase", "ReleaseView"]
