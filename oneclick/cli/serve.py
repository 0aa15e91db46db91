"""``python -m oneclick.cli.serve``: serves publish-app, publish-library, promote-app,
rollback-app and apply-configuration as deployments of this machine, so that people can
start them from the Prefect UI. Started in the background by ``oneclick up``; ``oneclick
down`` stops it."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.configure_app import apply_configuration
from flows.promote_app import promote_app
from flows.publish_app import publish_app
from flows.publish_library import publish_library
from flows.rollback_app import rollback_app
from flows.triggers import on_push

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def main() -> None:
    tags = ["oneclick"]
    deployments = [
        publish_app.to_deployment(
            "publish-app",
            tags=tags,
            parameters={"path": str(EXAMPLES / "expenses")},
            triggers=[on_push("app")],
        ),
        publish_library.to_deployment(
            "publish-library",
            tags=tags,
            parameters={"path": str(EXAMPLES / "finance-common")},
            triggers=[on_push("library")],
        ),
        promote_app.to_deployment(
            "promote-app",
            tags=tags,
            parameters={"app": "expenses", "from_stage": "development", "to_stage": "qa"},
            cron="0 2 * * *",
        ),
        rollback_app.to_deployment("rollback-app", tags=tags, parameters={"app": "expenses"}),
        apply_configuration.to_deployment(
            "apply-configuration", tags=tags, parameters={"app": "expenses"}
        ),
    ]
    # to_deployment is sync here; its annotation also allows the async form
    serve(*[cast(RunnerDeployment, d) for d in deployments], print_starting_message=False)


if __name__ == "__main__":
    main()
