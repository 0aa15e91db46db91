"""Bringing back what each stage of the local runtime ran, after ``oneclick down`` or a reboot.

``restore_stage_apps(catalog, stages, home)`` looks at every app the local runtime has a
current record of, on each given stage whose runtime is ``local``: when its instance or its
address's proxy is not running (or does not answer), the recorded release is deployed again
from its image, with the stage's configuration as it is now, under the (app, stage) lease
(an app another run is rolling out is left to that run). The app answers at the same
address as before. The catalog records no new deployment: the stage runs what it ran.
Returns one line per app looked at, saying what was done; an app that cannot be brought
back (a setting its release needs is gone, its image is missing) says why and the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from oneclick.errors import OneclickError
from oneclick.home import Home
from oneclick.releases import Catalog
from oneclick.rollout.lease import hold_lease, this_process
from oneclick.rollout.steps import deploy_request
from oneclick.runtimes import InstanceStatus, LocalRuntime
from oneclick.runtimes.select import locate_image
from oneclick.stages import StageConfig

log = logging.getLogger(__name__)

LEASE_WAIT = 5.0


def restore_stage_apps(
    catalog: Catalog, stages: Sequence[StageConfig], home: Home, *, wait: float = LEASE_WAIT
) -> list[str]:
    """Start again each recorded app of the local ``stages`` that is down; see the module."""
    runtime = LocalRuntime(home.runtime)
    local = {stage.name: stage for stage in stages if stage.runtime == "local"}
    done = []
    for status in runtime.instances():
        stage = local.get(status.stage)
        if stage is None:
            continue
        what = f"{status.app} {status.release} on {status.stage}"
        if status.alive and status.healthy:
            done.append(f"{what} runs at {status.url}")
            continue
        try:
            url = _restore(catalog, runtime, stage, status, home, wait)
        except OneclickError as exc:
            log.warning("could not restore %s: %s", what, exc)
            done.append(f"{what} could not be restored: {exc}")
            continue
        done.append(f"{what} restored at {url}")
    return done


def _restore(
    catalog: Catalog,
    runtime: LocalRuntime,
    stage: StageConfig,
    status: InstanceStatus,
    home: Home,
    wait: float,
) -> str:
    release = catalog.release(status.app, status.release)
    with hold_lease(catalog, status.app, stage.name, this_process(), wait=wait):
        image = locate_image(release.image_reference, stage, home)
        request = deploy_request(release, stage, image, lambda: False, lambda: None)
        return runtime.deploy(request).url
