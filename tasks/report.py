"""Tasks that leave a run's record for people: a markdown artifact and a link artifact."""

from __future__ import annotations

import re

from prefect import task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from oneclick.data import SchemaChange, SchemaPlan
from oneclick.libraries.impact import LibraryImpact
from oneclick.releases import ReleaseView


def artifact_key(*parts: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _changes_table(changes: list[SchemaChange]) -> list[str]:
    rows = [f"| {c.kind} | {c.table} | {c.column or ''} | {_cell(c.detail)} |" for c in changes]
    return ["| change | table | column | detail |", "|---|---|---|---|", *rows]


def release_markdown(
    release: ReleaseView,
    stage: str,
    url: str,
    changes: list[SchemaChange],
    script: str,
    verb: str,
    drift: list[SchemaChange] | None = None,
) -> str:
    libraries = ", ".join(f"{lib['name']} {lib['version']}" for lib in release.libraries) or "none"
    lines = [
        f"# {release.app} {release.version} {verb} {stage}",
        "",
        "| | |",
        "|---|---|",
        f"| release | `{release.version}` |",
        f"| image | `{release.image_digest}` |",
        f"| schema | `{release.schema_fingerprint}` |",
        f"| libraries | {_cell(libraries)} |",
        f"| stage URL | [{url}]({url}) |",
        "",
        "## Schema changes",
        "",
    ]
    if changes:
        lines += _changes_table(changes)
    else:
        lines.append("None: the database already matched this release.")
    if drift:
        lines += [
            "",
            "## Changes made outside oneclick",
            "",
            f"The {stage} database was changed since oneclick last brought it to a release. "
            "Nothing was dropped: objects made outside oneclick are kept, and what the model "
            "needs is in place.",
            "",
            *_changes_table(drift),
        ]
    lines += ["", "## Database script", "", "```python", script.rstrip(), "```", ""]
    return "\n".join(lines)


def plan_markdown(
    release: ReleaseView, stage: str, plan: SchemaPlan | None, impact: LibraryImpact | None = None
) -> str:
    """What the database step is about to do on ``stage``, shown before it runs; with the
    library versions the release takes there and what they block (``plan`` None: refused)."""
    lines = [f"# Schema plan: {release.app} {release.version} on {stage}", ""]
    if plan is None:
        lines.append("None: the release is refused on this stage (library impact, below).")
    elif plan.up_to_date:
        lines.append("None: the database already carries this release's schema fingerprint.")
    elif plan.changes:
        lines += _changes_table(plan.changes)
    else:
        lines.append("No table or column changes; the schema fingerprint will be recorded.")
    if impact is not None:
        lines += ["", *impact_markdown(impact)]
    if plan is not None and plan.drift:
        lines += ["", "## Changes made outside oneclick (kept)", "", *_changes_table(plan.drift)]
    if plan is not None:
        lines += ["", "## Database script", "", "```python", plan.script.rstrip(), "```", ""]
    return "\n".join(lines)


def impact_markdown(impact: LibraryImpact) -> list[str]:
    """The library versions taken on the stage, and each blocker with what to do."""
    lines = ["## Library impact", "", "| library | from | to | removed records | added records |"]
    lines.append("|---|---|---|---|---|")
    for c in impact.changes:
        removed, added = (
            _cell("; ".join(f"{s}: {', '.join(k)}" for s, k in sorted(keys.items())) or "-")
            for keys in (c.removed, c.added)
        )
        lines.append(f"| {c.library} | {c.old} | {c.new} | {removed} | {added} |")
    lines.append("")
    if not impact.blockers:
        lines.append("No blockers: no removed record is used by the model or stored on the stage.")
        return lines
    lines += ["**Blocked**: keep each record below, or migrate the data first.", ""]
    lines += ["| record | used by | rows | what to do |", "|---|---|---|---|"]
    for b in impact.blockers:
        used = f"default of {b.attribute}" if b.default else f"{b.column} ({b.attribute})"
        todo = f"keep '{b.key}' in {b.library}, or " + (
            "change the default in the model" if b.default else "change the rows holding it"
        )
        lines.append(f"| {b.static} '{b.key}' | {used} | {b.rows} | {_cell(todo)} |")
    return lines


def publish_plan(
    release: ReleaseView, stage: str, plan: SchemaPlan | None, impact: LibraryImpact | None = None
) -> None:
    """The plan as an artifact of the running task (call from inside a task)."""
    create_markdown_artifact(
        markdown=plan_markdown(release, stage, plan, impact),
        key=artifact_key(release.app, stage, "schema-plan"),
        description=f"Schema plan of {release.app} {release.version} on {stage}",
    )


@task(name="report", cache_policy=NO_CACHE)
def report_release(
    release: ReleaseView,
    stage: str,
    url: str,
    changes: list[SchemaChange],
    script: str,
    verb: str = "published to",
    drift: list[SchemaChange] | None = None,
) -> str:
    markdown = release_markdown(release, stage, url, changes, script, verb, drift)
    create_markdown_artifact(
        markdown=markdown,
        key=artifact_key(release.app, stage, "release"),
        description=f"{release.app} {release.version} on {stage}",
    )
    create_link_artifact(
        link=url,
        link_text=f"{release.app} on {stage}",
        key=artifact_key(release.app, stage, "url"),
        description=f"Where {release.app} {release.version} runs on {stage}",
    )
    return markdown
