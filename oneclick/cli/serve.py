"""``python -m oneclick.cli.serve``: serves oneclick's deployments (``flows.deployments``) on
this machine, so that people start them from the Prefect UI, schedules and git pushes.
Started in the background by ``oneclick up``; ``oneclick down`` stops it. The
promote-stage deployment is served with the schedules of the stage blocks' policies."""

from __future__ import annotations

from typing import cast

from prefect import serve
from prefect.deployments.runner import RunnerDeployment
from prefect.utilities.callables import ParameterSchema

from flows.deployments import DEPLOYMENTS, TAGS
from flows.forms import choices, fitting, form_schema
from flows.schedules import policy_schedules


def served_deployments() -> list[RunnerDeployment]:
    """The deployments, their run forms holding this server's stages and apps."""
    stages, apps = choices()
    deployments = []
    for spec in DEPLOYMENTS:
        flow = spec.flow()
        schema = form_schema(flow, stages, apps)
        # to_deployment is sync here; its annotation also allows the async form
        deployment = cast(
            RunnerDeployment,
            flow.to_deployment(
                spec.name,
                description=spec.description,
                tags=TAGS,
                parameters=fitting(spec.served_parameters(), schema),
                triggers=list(spec.triggers),
                schedules=policy_schedules() if spec.name == "promote-stage" else None,
            ),
        )
        deployment._parameter_openapi_schema = ParameterSchema(**schema)
        deployments.append(deployment)
    return deployments


def main() -> None:
    serve(*served_deployments(), print_starting_message=False)


if __name__ == "__main__":
    main()
