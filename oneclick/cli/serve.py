"""``python -m oneclick.cli.serve``: serves oneclick's deployments (``flows.deployments``) on
this machine, so that people start them from the Prefect UI, schedules and git pushes.
Started in the background by ``oneclick up``; ``oneclick down`` stops it. The
promote-stage deployment is served with the schedules of the stage blocks' policies."""

from __future__ import annotations

from typing import cast

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.deployments import DEPLOYMENTS, TAGS
from flows.schedules import policy_schedules


def main() -> None:
    deployments = [
        spec.flow().to_deployment(
            spec.name,
            description=spec.description,
            tags=TAGS,
            parameters=spec.served_parameters(),
            triggers=list(spec.triggers),
            schedules=policy_schedules() if spec.name == "promote-stage" else None,
        )
        for spec in DEPLOYMENTS
    ]
    # to_deployment is sync here; its annotation also allows the async form
    serve(*[cast(RunnerDeployment, d) for d in deployments], print_starting_message=False)


if __name__ == "__main__":
    main()
