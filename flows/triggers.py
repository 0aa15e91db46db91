"""The deployment triggers: a git push publishes (the relay's events), and an edit of a
stage block brings the promotion schedules up to date."""

from __future__ import annotations

from typing import Literal

from prefect.events import DeploymentEventTrigger

STAGE_BLOCK_TYPE = "oneclick Stage"
STAGE_CHANGE = "stage edited: sync promotion schedules and run forms"


def on_push(kind: Literal["app", "library"]) -> DeploymentEventTrigger:
    """A push to a watched branch publishes the app (to the source's stage) or the library
    at that commit; a library run is told which git source it came from (whose
    ``update_consumers`` setting it reads)."""
    fields = ["path", "repository", "commit", *(["stage"] if kind == "app" else [])]
    parameters = {
        "source_revision" if name == "commit" else name: "{{ event.payload." + name + " }}"
        for name in fields
    }
    if kind == "library":
        parameters["git_source"] = "{{ event.resource.name }}"
    return DeploymentEventTrigger(
        name=f"git push publishes the {kind}",
        description=f"A push to a watched branch publishes the {kind} at that commit.",
        expect={f"oneclick.git.push.{kind}"},
        match={"prefect.resource.id": "oneclick.git-source.*"},
        posture="Reactive",
        threshold=1,
        parameters=parameters,
    )


def on_stage_change() -> DeploymentEventTrigger:
    """A stage block created, edited (in the UI or by `oneclick freeze`) or deleted: the
    promote-stage schedules follow the promotion policies."""
    return DeploymentEventTrigger(
        name=STAGE_CHANGE,
        description=(
            "A stage block changed: bring the promote-stage schedules and the stage "
            "dropdowns of the run forms up to date."
        ),
        expect={f"prefect.block-document.{action}" for action in ("created", "updated", "deleted")},
        match_related={
            "prefect.resource.role": "block-type",
            "prefect.resource.name": STAGE_BLOCK_TYPE,
        },
        posture="Reactive",
        threshold=1,
    )
