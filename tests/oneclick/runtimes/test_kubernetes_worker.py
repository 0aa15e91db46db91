"""A Kubernetes work pool for oneclick on a real control plane: the runtime deploys from a
pod's service account (a real token, no kubeconfig) with exactly the Role oneclick renders,
and the base job template is a Job the API server accepts."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from kubernetes import client as k8s
from prefect.utilities.templating import apply_values

from oneclick.errors import StageError
from oneclick.runtimes.kubernetes.config import KubernetesRuntimeConfig
from oneclick.runtimes.kubernetes.runtime import KubernetesRuntime
from oneclick.runtimes.kubernetes.worker import base_job_template, service_account, stage_access
from tests.flows.rollout_support import wait_for
from tests.oneclick.runtimes.test_kubernetes_runtime import digest, request

ACCOUNT = "oneclick-worker"


@pytest.fixture
def namespaces(kube_cluster: Any) -> Iterator[tuple[str, str]]:
    """A namespace for the worker's Jobs and one for a stage."""
    suffix = uuid.uuid4().hex[:8]
    names = (f"workers-{suffix}", f"stage-{suffix}")
    core = k8s.CoreV1Api(kube_cluster.api_client())
    for name in names:
        core.create_namespace({"metadata": {"name": name}})
    yield names
    for name in names:
        core.delete_namespace(name)


def allowed(api: Any, user: str, namespace: str) -> bool:
    """Whether the API server's authorizer lets ``user`` read Deployments in ``namespace``."""
    attributes = {"namespace": namespace, "verb": "get", "group": "apps", "resource": "deployments"}
    review = {"spec": {"user": user, "resourceAttributes": attributes}}
    return bool(k8s.AuthorizationV1Api(api).create_subject_access_review(review).status.allowed)


def test_the_runtime_deploys_from_a_service_account_with_only_the_rendered_role(
    kube_cluster: Any,
    namespaces: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workers, stage = namespaces
    api = kube_cluster.api_client()
    core = k8s.CoreV1Api(api)
    core.create_namespaced_service_account(workers, service_account(workers, ACCOUNT))
    token = core.create_namespaced_service_account_token(
        ACCOUNT, workers, {"spec": {"expirationSeconds": 3600}}
    ).status.token
    mounted = tmp_path / "serviceaccount"  # what the kubelet mounts into a pod
    mounted.mkdir()
    (mounted / "token").write_text(token)
    shutil.copyfile(kube_cluster.ca, mounted / "ca.crt")
    server = urlparse(kube_cluster.server)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", str(server.hostname))
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(server.port))
    monkeypatch.setenv("ONECLICK_SERVICEACCOUNT_DIR", str(mounted))
    in_pod = KubernetesRuntime(KubernetesRuntimeConfig(namespace=stage, poll_interval=0.2))

    with pytest.raises(StageError, match=r"refused oneclick \(403"):  # no rights there yet
        in_pod.deploy(request("1.0.0", 1))

    user = f"system:serviceaccount:{workers}:{ACCOUNT}"
    assert not allowed(api, user, stage)

    rbac = k8s.RbacAuthorizationV1Api(api)
    role, binding = stage_access(stage, ACCOUNT, workers)
    rbac.create_namespaced_role(stage, role)
    rbac.create_namespaced_role_binding(stage, binding)
    # The authorizer learns of a new Role and RoleBinding from a watch: a request made right
    # after they are created may still get 403.
    wait_for(lambda: allowed(api, user, stage), timeout=30, what=f"{user} to read deployments")
    first = in_pod.deploy(request("1.0.0", 1))
    assert first.url == f"http://expenses-qa.{stage}.svc:80"
    in_pod.deploy(request("1.1.0", 2))  # an upgrade collects the old configuration
    status = in_pod.status("qa", "expenses")
    assert status is not None and status.digest == digest(2)
    assert in_pod.undeploy("qa", "expenses")
    with pytest.raises(StageError, match=r"refused oneclick \(403"):  # nothing beyond the stage
        KubernetesRuntime(KubernetesRuntimeConfig(namespace=workers)).deploy(request("1", 3))


def test_the_base_job_template_renders_a_job_the_api_server_accepts(
    kube_cluster: Any, namespaces: tuple[str, str]
) -> None:
    workers, _ = namespaces
    template = base_job_template(
        f"127.0.0.1:5000/oneclick-worker@{digest(7)}",
        namespace=workers,
        service_account_name=ACCOUNT,
        env_secret="oneclick-worker-env",
    )
    values = {
        name: spec.get("default") for name, spec in template["variables"]["properties"].items()
    }
    values.update(  # what the worker supplies per flow run
        name="promote-app-run",
        command=["prefect", "flow-run", "execute"],
        env=[{"name": "PREFECT__FLOW_RUN_ID", "value": str(uuid.uuid4())}],
        labels={"prefect.io/flow-run-name": "promote-app-run"},
    )
    job = apply_values(template["job_configuration"]["job_manifest"], values)
    accepted = k8s.BatchV1Api(kube_cluster.api_client()).create_namespaced_job(
        workers, job, dry_run="All"
    )
    pod = accepted.spec.template.spec
    assert pod.service_account_name == ACCOUNT and pod.restart_policy == "Never"
    [container] = pod.containers
    assert container.image.endswith(digest(7)) and container.args[0] == "prefect"
    assert container.env_from[0].secret_ref.name == "oneclick-worker-env"
    assert container.resources.requests == {"cpu": "250m", "memory": "512Mi"}
    with pytest.raises(StageError, match="'Oneclick_Env' is not a Kubernetes name"):
        base_job_template(
            "x", namespace=workers, service_account_name=ACCOUNT, env_secret="Oneclick_Env"
        )


def test_the_command_prints_the_manifests_and_writes_the_template(tmp_path: Path) -> None:
    import json

    import yaml
    from click.testing import CliRunner

    from oneclick.cli.main import cli

    template = tmp_path / "job-template.json"
    result = CliRunner().invoke(
        cli,
        ["worker", "kubernetes", "--image", "r/oneclick-worker:1", "--namespace", "ops",
         "--env-secret", "worker-env", "--stage-namespace", "qa", "--stage-namespace", "prod",
         "--job-template", str(template)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    kinds = [(o["kind"], o["metadata"]["namespace"]) for o in yaml.safe_load_all(result.stdout)]
    assert kinds == [
        ("ServiceAccount", "ops"),
        ("Role", "qa"),
        ("RoleBinding", "qa"),
        ("Role", "prod"),
        ("RoleBinding", "prod"),
    ]
    written = json.loads(template.read_text())
    assert written["variables"]["properties"]["image"]["default"] == "r/oneclick-worker:1"
