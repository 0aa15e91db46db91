"""The run forms of oneclick's deployments in the Prefect UI.

Stage parameters are dropdowns of the stage blocks, and the app parameter of promote,
rollback and configure a dropdown of the apps in the release catalog; optional values are
plain fields (left empty: the flow's default) instead of a choice of types. The lists are
written when the deployments are served (``oneclick up``) and refreshed by ``refresh_forms``:
when oneclick creates a stage, when a stage block changes (the sync-schedules deployment's
trigger) and when an app is published for the first time. A deployment's default value that
is not among the choices (the examples' ``expenses`` app or ``qa`` stage on a server with
other names) is left out with them: the server refuses defaults its form does not admit, and
the person picks from the list instead.
"""

from __future__ import annotations

from typing import Any

from prefect import Flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentUpdate
from prefect.client.schemas.filters import FlowFilter, FlowFilterName
from prefect.utilities.callables import parameter_schema

STAGE_PARAMETERS = frozenset({"stage", "from_stage", "to_stage"})
APP_CHOICE_FLOWS = frozenset({"promote-app", "rollback-app", "apply-configuration"})
_NULL = {"type": "null"}


def form_schema(flow: Flow[..., Any], stages: list[str], apps: list[str]) -> dict[str, Any]:
    """The flow's parameter schema with the choices of this server filled in."""
    schema = parameter_schema(flow).model_dump()
    for name, field in schema["properties"].items():
        options = field.get("anyOf")
        if options and len(options) == 2 and _NULL in options:
            # an optional value: the field of its type, with no default (empty: not sent)
            field.pop("anyOf")
            field.update(next(o for o in options if o != _NULL))
            if field.get("default") is None:
                field.pop("default", None)
        if name in STAGE_PARAMETERS and stages:
            field["enum"] = stages
            field.pop("pattern", None)
        elif name == "app" and flow.name in APP_CHOICE_FLOWS and apps:
            field["enum"] = apps
    return schema


def fitting(parameters: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The default ``parameters`` that the choices of ``schema`` admit."""
    fields = schema["properties"]
    return {
        name: value
        for name, value in parameters.items()
        if "enum" not in fields.get(name, {}) or value in fields[name]["enum"]
    }


def choices() -> tuple[list[str], list[str]]:
    """The stage names (in promotion order) and the apps of the release catalog."""
    from flows.stages import stage_names
    from flows.workspace import open_home
    from oneclick.releases import Catalog

    return stage_names(), Catalog(open_home().catalog_url).apps()


def offer_in_forms(app: str) -> None:
    """After a publish: the app becomes a choice of the run forms if it was not one yet. The
    forms are a convenience: failing to update them never fails the publish."""
    try:
        if refresh_forms():
            get_run_logger().info("run forms updated: %s is one of the apps to choose", app)
    except Exception as exc:
        get_run_logger().warning("the run forms were not updated: %s", exc)


def refresh_forms() -> int:
    """Write the current choices into every deployment of oneclick's flows (served, or on a
    work pool); returns how many were updated."""
    from flows.deployments import DEPLOYMENTS

    flows = {flow.name: flow for flow in (spec.flow() for spec in DEPLOYMENTS)}
    ours = FlowFilter(name=FlowFilterName(any_=sorted(flows)))
    stages, apps = choices()
    updated = 0
    with get_client(sync_client=True) as client:
        found = client.read_deployments(flow_filter=ours)
        names = {f.id: f.name for f in client.read_flows(flow_filter=ours)}
        for deployment in found:
            flow = flows[names[deployment.flow_id]]
            schema = form_schema(flow, stages, apps)
            parameters = fitting(deployment.parameters, schema)
            if (deployment.parameter_openapi_schema, deployment.parameters) == (schema, parameters):
                continue
            client.update_deployment(
                deployment.id,
                DeploymentUpdate(parameter_openapi_schema=schema, parameters=parameters),
            )
            updated += 1
    return updated
