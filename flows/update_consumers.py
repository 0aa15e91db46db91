"""update_consumers: after a library version is published, publish again every app whose
range admits it, so the consumers take it.

Each consumer (an app whose newest release lists the library) is published from its source,
as recorded with that release (the model's path, and the repository and commit when it came
from git), to the *first stage*: the stage block with the lowest ``order`` (development on
the embedded default), where every change starts before it is promoted. Each is a
publish-app subflow of its own, all at once; the impact check of each publish refuses a
consumer whose data or model still uses a record the version removes (that consumer keeps its
release). Consumers whose range excludes the version are listed as pinned; consumers that
already run it there are up to date. The run leaves a table artifact (app, old → new library
version, outcome, blockers) and fails when a publish failed.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.client.schemas.objects import State

from flows.promote_stage import MAX_PARALLEL, PREFIX
from flows.publish_app import publish_app
from flows.stages import load_stage, stage_names
from flows.workspace import open_home
from oneclick.errors import DeployError, StageError
from oneclick.libraries import library_store
from oneclick.libraries.consumers import Consumer, bundled_version, find_consumers
from oneclick.releases import ReleaseView
from oneclick.releases.catalog import Catalog
from oneclick.rollout import RolloutResult
from tasks.consumers import blocker_text, pinned_reason
from tasks.report import artifact_key


def _publish(release: ReleaseView, stage: str, by: str) -> State[RolloutResult]:
    assert release.source_path is not None
    state: State[RolloutResult] = publish_app(
        release.source_path,
        stage,
        source_revision=release.source_revision if release.source_repository else None,
        repository=release.source_repository,
        by=by,
        return_state=True,
    )
    return state


def _skip_reason(consumer: Consumer, version: str, first: str) -> str | None:
    """Why ``consumer`` is not published again (None: it is)."""
    if not consumer.admits:
        return pinned_reason(consumer, version)
    there = next((s for s in consumer.stages if s.stage == first), None)
    if there is not None and there.bundled == version:
        return f"up to date: {there.release} on {first} bundles {version}"
    if consumer.release.source_path is None:
        return (
            f"skipped: no source is recorded with {consumer.app} {consumer.release.version}; "
            "publish it once (oneclick publish app PATH) so the next update finds it"
        )
    return None


@flow(name="update-consumers")
def update_consumers(library: str, version: str) -> list[dict[str, str]]:
    """Publish again, to the first stage, every app whose range admits ``version`` of
    ``library``; apps whose range excludes it are listed as pinned.

    Args:
        library: The library whose consumers are updated.
        version: The library version they take; it must be published.
    """
    logger = get_run_logger()
    home = open_home()
    store = library_store(home)
    store.get(library, version)  # an unpublished version fails here, naming those there are
    stages = stage_names()
    if not stages:
        raise StageError("there are no stage blocks: create one (oneclick demo creates three)")
    first = load_stage(stages[0], home)
    consumers = find_consumers(
        Catalog(home.catalog_url),
        store,
        library,
        version,
        lambda stage, app: first.database_url_for(app) if stage == first.name else None,
    )
    rows: dict[str, dict[str, str]] = {}
    chosen = []
    for consumer in consumers:
        why = _skip_reason(consumer, version, first.name)
        rows[consumer.app] = _row(consumer, library, version, first.name, why or "publishing")
        if why is None:
            chosen.append(consumer)
        else:
            logger.info("%s: %s", consumer.app, why)
    if chosen:
        by = f"update-consumers {library} {version}"
        logger.info("publishing %s to %s", ", ".join(c.app for c in chosen), first.name)
        with ThreadPoolExecutor(min(MAX_PARALLEL, len(chosen))) as pool:
            futures = {
                c.app: pool.submit(copy_context().run, _publish, c.release, first.name, by)
                for c in chosen
            }
            for app, future in futures.items():
                state = future.result()
                if state.is_completed():
                    outcome = f"published: {state.result().version}"
                else:
                    reason = (state.message or state.name or "").removeprefix(PREFIX)
                    outcome = f"refused: {reason.splitlines()[0]}"
                rows[app]["outcome"] = outcome
    table = [rows[app] for app in sorted(rows)]
    create_table_artifact(
        table=table or [{"app": "-", "outcome": f"no app uses {library}"}],
        key=artifact_key("update-consumers", library),
        description=f"# {library} {version}: consumers on {first.name}",
    )
    failed = [row for row in table if row["outcome"].startswith("refused")]
    if failed:
        raise DeployError(
            f"{len(failed)} of {len(chosen)} consumers of {library} did not take {version}: "
            + "; ".join(f"{row['app']}: {row['outcome']}" for row in failed)
        )
    return table


def _row(
    consumer: Consumer, library: str, version: str, stage: str, outcome: str
) -> dict[str, str]:
    there = next((s for s in consumer.stages if s.stage == stage), None)
    old = there.bundled if there is not None else bundled_version(consumer.release, library)
    return {
        "app": consumer.app,
        "requirement": consumer.requirement,
        "library version": f"{old or '-'} → {version}",
        "outcome": outcome,
        "blockers": blocker_text(there) if there is not None else "-",
    }
