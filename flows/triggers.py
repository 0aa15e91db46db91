"""The deployment triggers that turn the relay's push events into publish runs."""

from __future__ import annotations

from typing import Literal

from prefect.events import DeploymentEventTrigger


def on_push(kind: Literal["app", "library"]) -> DeploymentEventTrigger:
    """A push to a watched branch publishes the app (to the source's stage) or the library
    at that commit."""
    fields = ["path", "repository", "commit", *(["stage"] if kind == "app" else [])]
    return DeploymentEventTrigger(
        name="git push",
        description=f"A push to a watched branch publishes the {kind} at that commit.",
        expect={f"oneclick.git.push.{kind}"},
        match={"prefect.resource.id": "oneclick.git-source.*"},
        posture="Reactive",
        threshold=1,
        parameters={
            "source_revision" if name == "commit" else name: "{{ event.payload." + name + " }}"
            for name in fields
        },
    )
