"""The run forms on a real Prefect server, for a team whose apps are not the examples': a
deployment's example default (app ``expenses``) that is not one of the form's choices is left
out, so the server takes the deployment (it refuses defaults its form does not admit)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.responses import DeploymentResponse

from flows.forms import choices, refresh_forms
from flows.workspace import open_home
from oneclick.cli.serve import served_deployments
from oneclick.releases import Catalog


def publish_travel() -> None:
    """What a first publish of app ``travel`` leaves in the catalog."""
    digest = "sha256:" + "7" * 64
    Catalog(open_home().catalog_url).record_release(
        manifest={"app": "travel", "digest": digest, "schema_fingerprint": "sha256:s"},
        model={},
        version="1.0.0",
        image_digest=digest,
        image_reference="r",
    )


def read(deployment_id: UUID) -> DeploymentResponse:
    with get_client(sync_client=True) as client:
        return client.read_deployment(deployment_id)


@pytest.fixture
def promote_app(oneclick_home: Path, stages: list[str]) -> Iterator[list[UUID]]:
    """Applies the served promote-app deployment under a name of its own; deletes it after."""
    made: list[UUID] = []
    yield made
    with get_client(sync_client=True) as client:
        for deployment_id in made:
            client.delete_deployment(deployment_id)


def apply_promote_app(made: list[UUID]) -> UUID:
    deployment = next(d for d in served_deployments() if d.name == "promote-app")
    deployment.name = f"forms-{uuid.uuid4().hex[:8]}"
    made.append(deployment.apply())
    return made[-1]


def test_a_served_form_leaves_out_an_example_app_the_catalog_does_not_hold(
    promote_app: list[UUID],
) -> None:
    publish_travel()
    assert choices()[1] == ["travel"]
    stored = read(apply_promote_app(promote_app))
    assert stored.parameter_openapi_schema is not None
    assert stored.parameter_openapi_schema["properties"]["app"]["enum"] == ["travel"]
    assert "app" not in stored.parameters  # no default: the person picks travel
    assert stored.parameters["from_stage"] == "development"  # a stage of this server: kept


def test_a_refreshed_form_drops_a_default_that_is_no_longer_among_its_choices(
    promote_app: list[UUID],
) -> None:
    assert choices()[1] == []  # nothing published: the app is free text, expenses its example
    deployment_id = apply_promote_app(promote_app)
    assert read(deployment_id).parameters["app"] == "expenses"

    publish_travel()
    assert refresh_forms() >= 1
    stored = read(deployment_id)
    assert stored.parameter_openapi_schema is not None
    assert stored.parameter_openapi_schema["properties"]["app"]["enum"] == ["travel"]
    assert "app" not in stored.parameters
