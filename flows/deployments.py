"""oneclick's deployments, defined once. ``oneclick up`` serves them (``oneclick.cli.serve``)
and ``prefect.yaml`` is written from them (``python -m flows.deployments > prefect.yaml``;
a test checks the file matches), so both places declare the same deployments.

The promote-stage schedules are not declared here: they come from the stage blocks'
promotion policies (``flows.schedules``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from prefect import Flow
from prefect.events import DeploymentEventTrigger

from flows.triggers import on_push, on_stage_change

ROOT = Path(__file__).resolve().parents[1]
TAGS = ["oneclick"]
POOL = "oneclick"


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    entrypoint: str  # path/to/module.py:flow_function, relative to the source directory
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)
    triggers: tuple[DeploymentEventTrigger, ...] = ()

    def flow(self) -> Flow[..., Any]:
        path, function = self.entrypoint.split(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        loaded: Flow[..., Any] = getattr(module, function)
        return loaded

    def served_parameters(self) -> dict[str, Any]:
        """The parameters with example paths made absolute (served runs start anywhere)."""
        return {
            key: str(ROOT / value) if key == "path" else value
            for key, value in self.parameters.items()
        }


DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        "publish-app",
        "flows/publish_app.py:publish_app",
        "Compile an app model, build its image and deploy it to a stage.",
        {"path": "examples/expenses", "stage": "development"},
        (on_push("app"),),
    ),
    DeploymentSpec(
        "publish-library",
        "flows/publish_library.py:publish_library",
        "Compile a library and store its immutable, versioned build.",
        {"path": "examples/finance-common"},
        (on_push("library"),),
    ),
    DeploymentSpec(
        "update-consumers",
        "flows/update_consumers.py:update_consumers",
        "Publish again, to the first stage, every app whose range admits a library version; "
        "list the apps pinned to another.",
        {"library": "finance-common", "version": "1.2.0"},
    ),
    DeploymentSpec(
        "promote-app",
        "flows/promote_app.py:promote_app",
        "Deploy the release one stage runs (the same image) to the next stage.",
        {"app": "expenses", "from_stage": "development", "to_stage": "qa"},
    ),
    DeploymentSpec(
        "promote-stage",
        "flows/promote_stage.py:promote_stage",
        "Promote into a stage every app its promotion policy makes eligible now "
        "(scheduled by the stage blocks' promotion policies).",
        {"stage": "qa"},
    ),
    DeploymentSpec(
        "rollback-app",
        "flows/rollback_app.py:rollback_app",
        "Deploy to a stage the release it ran before (or a named one); data is kept.",
        {"app": "expenses", "stage": "development"},
    ),
    DeploymentSpec(
        "apply-configuration",
        "flows/configure_app.py:apply_configuration",
        "Roll what a stage runs again with the stage block's current settings.",
        {"app": "expenses", "stage": "development"},
    ),
    DeploymentSpec(
        "sync-schedules",
        "flows/schedules.py:sync_schedules",
        "Bring the promote-stage schedules up to date with the stage blocks' policies.",
        {},
        (on_stage_change(),),
    ),
)

HEADER = """\
# The oneclick deployments, written by `python -m flows.deployments > prefect.yaml` from
# flows/deployments.py, which `oneclick up` serves too: edit that file, not this one.
# `prefect deploy --all` registers them against the work pool named below (create it once:
# `prefect work-pool create oneclick --type process`). The promote-stage schedules come from
# the stage blocks' promotion policies: the sync-schedules deployment writes them whenever a
# stage block changes; `oneclick schedule --sync` does it at once.
"""


def _trigger(trigger: DeploymentEventTrigger) -> dict[str, Any]:
    data: dict[str, Any] = {"type": "event"}
    data.update(trigger.model_dump(mode="json", exclude_unset=True))
    data["expect"] = sorted(data["expect"])
    return data


def prefect_yaml() -> str:
    deployments = []
    for spec in DEPLOYMENTS:
        entry: dict[str, Any] = {
            "name": spec.name,
            "entrypoint": spec.entrypoint,
            "description": spec.description,
            "tags": list(TAGS),
            "parameters": spec.parameters,
        }
        if spec.triggers:
            entry["triggers"] = [_trigger(t) for t in spec.triggers]
        entry["work_pool"] = {"name": POOL}
        deployments.append(entry)
    document = {
        "name": "oneclick",
        "prefect-version": "3.8.8",
        "pull": [
            {
                "prefect.deployments.steps.set_working_directory": {
                    "directory": "{{ $ONECLICK_SOURCE_DIR }}"
                }
            }
        ],
        "deployments": deployments,
    }
    return HEADER + "\n" + yaml.safe_dump(document, sort_keys=False, width=100)


if __name__ == "__main__":
    print(prefect_yaml(), end="")
