"""The release catalog: every release and every deployment of a release to a stage, and the
leases that let one rollout at a time touch an app on a stage, and the pins that keep
scheduled promotions away from an app on a stage.

The names are loaded on first use: ``oneclick.releases.reading`` (what ``oneclick status``
reads) does not import SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oneclick.lazy import lazy_exports

if TYPE_CHECKING:
    from oneclick.releases.catalog import Catalog as Catalog
    from oneclick.releases.leases import LeaseAttempt as LeaseAttempt
    from oneclick.releases.leases import LeaseHolder as LeaseHolder
    from oneclick.releases.leases import Leases as Leases
    from oneclick.releases.pins import Pins as Pins
    from oneclick.releases.views import DeploymentView as DeploymentView
    from oneclick.releases.views import Phase as Phase
    from oneclick.releases.views import ReleaseView as ReleaseView

_WHERE = {
    "Catalog": "catalog",
    "DeploymentView": "views",
    "LeaseAttempt": "leases",
    "LeaseHolder": "leases",
    "Leases": "leases",
    "Phase": "views",
    "Pins": "pins",
    "ReleaseView": "views",
}

__all__ = sorted(_WHERE)
__getattr__ = lazy_exports(__name__, _WHERE)
