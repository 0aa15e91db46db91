"""Tasks about a library's consumers: what a published version means for each app on each
stage (a table artifact and log lines; a library publish itself is never blocked)."""

from __future__ import annotations

from collections.abc import Mapping

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from oneclick.home import Home
from oneclick.libraries import library_store
from oneclick.libraries.consumers import Consumer, ConsumerStage, find_consumers
from oneclick.releases import Catalog
from oneclick.stages import StageConfig
from tasks.report import artifact_key
from tasks.retry import RETRY


def pinned_reason(consumer: Consumer, version: str) -> str:
    return f"pinned: {consumer.requirement} excludes {version}"


def blocker_text(stage: ConsumerStage) -> str:
    if stage.impact is None or not stage.impact.blockers:
        return "-"
    return "; ".join(str(b) for b in stage.impact.blockers)


def consumer_rows(consumers: list[Consumer], version: str) -> list[dict[str, str]]:
    """One row per consumer and stage it runs on (one row when it runs nowhere)."""
    rows = []
    for consumer in consumers:
        for stage in consumer.stages or [ConsumerStage(stage="-", release="-", bundled=None)]:
            blocked = stage.impact is not None and stage.impact.blocked
            if not consumer.admits:
                outcome = pinned_reason(consumer, version)
            elif blocked:
                outcome = "blocked: its next publish or promotion here is refused"
            else:
                outcome = "takes it on its next publish"
            rows.append(
                {
                    "app": consumer.app,
                    "stage": stage.stage,
                    "release": stage.release,
                    "requirement": consumer.requirement,
                    "library version": f"{stage.bundled or '-'} → {version}",
                    "outcome": outcome,
                    "blockers": blocker_text(stage),
                }
            )
    return rows


@task(name="report consumers", cache_policy=NO_CACHE, **RETRY)
def report_consumers(
    library: str, version: str, stages: Mapping[str, StageConfig], home: Home
) -> list[dict[str, str]]:
    """Every consumer of ``library`` on each of ``stages`` it runs on, with what taking
    ``version`` would block there (rows counted in the stage databases, read only)."""
    logger = get_run_logger()

    def database_url(stage: str, app: str) -> str | None:
        return stages[stage].database_url_for(app) if stage in stages else None

    catalog, store = Catalog(home.catalog_url), library_store(home)
    consumers = find_consumers(catalog, store, library, version, database_url)
    rows = consumer_rows(consumers, version)
    for row in rows:
        logger.info(
            "%s on %s (%s %s): %s%s",
            row["app"],
            row["stage"],
            library,
            row["library version"],
            row["outcome"],
            "" if row["blockers"] == "-" else f"; {row['blockers']}",
        )
    if not rows:
        logger.info("no app uses %s yet", library)
    create_table_artifact(
        table=rows or [{"app": "-", "outcome": f"no app uses {library} yet"}],
        key=artifact_key("library", library, "consumers"),
        description=f"# Consumers of {library} {version}",
    )
    return rows
