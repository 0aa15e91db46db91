"""Pushes that would publish nothing new, answered without a run.

A push of an app source publishes nothing new when its commit is one the source's stage
already got (a release of the app records ``source_revision``; a deployment of it to the
stage succeeded), or is an ancestor of the commit the stage last got (a force-push back, an
old push replayed under a new delivery id). The app is the one the model at the source's
path names in the pushed commit. Both questions need the repository's history, so they are
asked of the relay's mirror of it (``oneclick.relay.mirror``: commits only, fetched when a
commit is missing), on the relay's side, where the push came from.

A repository the relay cannot reach does not stop a push: it is logged and the push
publishes (the rollout engine still makes a republish of what a stage serves a no-op).
Library sources are not checked here: a published library version is immutable.
"""

from __future__ import annotations

import logging
import posixpath
import re
import subprocess
from pathlib import Path

from sqlalchemy import select

from oneclick.errors import OneclickError
from oneclick.relay.mirror import Mirror
from oneclick.relay.push import Push
from oneclick.relay.sources import GitSource
from oneclick.releases import Catalog
from oneclick.releases.tables import Deployment, Release
from oneclick.releases.views import Phase

logger = logging.getLogger("oneclick.relay")
APP_NAME = re.compile(r"""^app:[ \t]*["']?([a-z][a-z0-9-]{1,39})["']?[ \t]*(?:#.*)?$""", re.M)
KEEP = 200  # the most recent revisions of an app on a stage looked at


def already_published(source: GitSource, push: Push, catalog: Catalog, mirrors: Path) -> str | None:
    """Why ``push`` would publish nothing new from ``source``; None if it would."""
    if source.kind != "app":
        return None
    mirror = Mirror(source.clone_url or push.clone_url, mirrors)
    try:
        mirror.ensure(push.commit)
        model = mirror.read(push.commit, posixpath.normpath(f"{source.path}/app.yaml"))
        found = APP_NAME.search(model or "")
        if found is None:
            return None
        app = found.group(1)
        published = revisions_on(catalog, app, source.stage)
        if push.commit in published:
            return f"{app} at {push.commit[:12]} was already published to {source.stage}"
        if not published:
            return None
        last = published[0]
        mirror.ensure(last)
        if mirror.is_ancestor(push.commit, last):
            return (
                f"{push.commit[:12]} is an ancestor of {last[:12]}, the commit of {app} that "
                f"{source.stage} last got from {source.name}: already published"
            )
    except (OneclickError, OSError, subprocess.SubprocessError) as exc:
        logger.warning("could not tell whether %s was published before: %s", source.name, exc)
    return None


def revisions_on(catalog: Catalog, app: str, stage: str) -> list[str]:
    """The commits of ``app`` that succeeded on ``stage``, the most recent first."""
    with catalog._session() as session:
        rows = session.execute(
            select(Release.source_revision)
            .join(Deployment, Deployment.release_id == Release.id)
            .where(Release.app == app, Release.source_revision.is_not(None))
            .where(Deployment.stage == stage, Deployment.phase == Phase.SUCCEEDED.value)
            .order_by(Deployment.id.desc())
            .limit(KEEP)
        ).scalars()
        return list(dict.fromkeys(r for r in rows if r))
