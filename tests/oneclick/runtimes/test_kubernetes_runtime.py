"""The kubernetes runtime on a real control plane (kube-apiserver, controller-manager,
scheduler, etcd; kwok makes nodes and pods ready, or keeps pods labelled
``oneclick.test/never-ready`` unready)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s
from pydantic import SecretStr

from oneclick.errors import DeployError, StageError
from oneclick.runtimes import DeployRequest
from oneclick.runtimes.kubernetes.config import KubernetesRuntimeConfig
from oneclick.runtimes.kubernetes.runtime import KubernetesRuntime
from tests.oneclick.runtimes.kube_proxy import FlakyApiServer
from tests.support import SECRET

NEVER_READY = {"oneclick.test/never-ready": "true"}


def digest(n: int) -> str:
    return "sha256:" + f"{n:02x}" * 32


def request(release: str, n: int, stage: str = "qa", limit: str = "500") -> DeployRequest:
    return DeployRequest(
        stage=stage,
        app="expenses",
        release=release,
        image_root="/nonexistent",
        image_digest=digest(n),
        image_reference=f"127.0.0.1:5000/apps/expenses@{digest(n)}",
        env={
            "ONECLICK_SETTING_ApprovalLimit": limit,
            "ONECLICK_SECRET_PaymentsApiKey": SECRET,
            "ONECLICK_DATABASE_URL": f"postgresql+psycopg://app:{SECRET}@db:5432/expenses",
        },
    )


@pytest.fixture
def namespace(kube_cluster: Any) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    core = k8s.CoreV1Api(kube_cluster.api_client())
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


def runtime(cluster: Any, namespace: str, **options: Any) -> KubernetesRuntime:
    config = KubernetesRuntimeConfig(
        kubeconfig=SecretStr(cluster.kubeconfig.read_text()),
        namespace=namespace,
        poll_interval=0.2,
        **options,
    )
    return KubernetesRuntime(config)


def objects(cluster: Any, namespace: str) -> dict[str, list[str]]:
    api_client = cluster.api_client()
    core, apps = k8s.CoreV1Api(api_client), k8s.AppsV1Api(api_client)
    return {
        "deployments": [d.metadata.name for d in apps.list_namespaced_deployment(namespace).items],
        "services": [s.metadata.name for s in core.list_namespaced_service(namespace).items],
        "configmaps": sorted(
            c.metadata.name
            for c in core.list_namespaced_config_map(namespace).items
            if c.metadata.name != "kube-root-ca.crt"
        ),
        "secrets": sorted(s.metadata.name for s in core.list_namespaced_secret(namespace).items),
    }


def test_deploy_upgrade_and_a_failed_rollout_rolled_back(kube_cluster: Any, namespace: str) -> None:
    lines: list[str] = []
    first = runtime(kube_cluster, namespace, replicas=2).deploy(
        request("1.0.0", 1).model_copy(update={"on_progress": lines.append})
    )
    assert first.url == f"http://expenses-qa.{namespace}.svc:80"
    assert first.previous_release is None
    assert any("2/2 updated, 2 available" in line for line in lines), lines
    status = runtime(kube_cluster, namespace).status("qa", "expenses")
    assert status and status.release == "1.0.0" and status.healthy and status.digest == digest(1)

    made = objects(kube_cluster, namespace)
    assert made["deployments"] == ["expenses-qa"] and made["services"] == ["expenses-qa"]
    core = k8s.CoreV1Api(kube_cluster.api_client())
    for name in made["configmaps"]:
        assert SECRET not in json.dumps(core.read_namespaced_config_map(name, namespace).data)
    secret = core.read_namespaced_secret(made["secrets"][0], namespace)
    assert base64.b64decode(secret.data["ONECLICK_SECRET_PaymentsApiKey"]).decode() == SECRET
    deployment = k8s.AppsV1Api(kube_cluster.api_client()).read_namespaced_deployment(
        "expenses-qa", namespace
    )
    assert SECRET not in json.dumps(
        kube_cluster.api_client().sanitize_for_serialization(deployment)
    )
    managers = {entry.manager for entry in deployment.metadata.managed_fields}
    assert "oneclick" in managers

    second = runtime(kube_cluster, namespace, replicas=2).deploy(request("1.1.0", 2))
    assert second.previous_release == "1.0.0"

    failing = runtime(
        kube_cluster, namespace, replicas=2, progress_deadline=5, pod_labels=NEVER_READY
    )
    with pytest.raises(
        DeployError, match=r"no progress within 5s.*rolled back, 1.1.0 keeps serving"
    ):
        failing.deploy(request("1.2.0", 3))
    after = runtime(kube_cluster, namespace).status("qa", "expenses")
    assert after and after.release == "1.1.0" and after.healthy, after


def test_a_first_deploy_that_never_gets_ready_is_removed(kube_cluster: Any, namespace: str) -> None:
    failing = runtime(kube_cluster, namespace, progress_deadline=5, pod_labels=NEVER_READY)
    with pytest.raises(DeployError, match="it was removed"):
        failing.deploy(request("1.0.0", 1))
    assert objects(kube_cluster, namespace) == {
        "deployments": [],
        "services": [],
        "configmaps": [],
        "secrets": [],
    }


def test_two_stages_side_by_side_and_undeploy_removes_only_what_oneclick_made(
    kube_cluster: Any, namespace: str
) -> None:
    kube = runtime(kube_cluster, namespace)
    kube.deploy(request("1.0.0", 1, stage="dev", limit="5000"))
    kube.deploy(request("1.0.0", 1, stage="qa", limit="500"))
    core = k8s.CoreV1Api(kube_cluster.api_client())
    core.create_namespaced_config_map(
        namespace,
        {"metadata": {"name": "expenses-qa-notes", "labels": {"oneclick.dev/app": "expenses"}}},
    )
    assert {i.stage for i in kube.instances()} == {"dev", "qa"}

    assert kube.undeploy("qa", "expenses") is True
    left = objects(kube_cluster, namespace)
    assert left["deployments"] == ["expenses-dev"] and left["services"] == ["expenses-dev"]
    assert "expenses-qa-notes" in left["configmaps"]
    assert all(not name.startswith("expenses-qa-") or name == "expenses-qa-notes"
               for name in left["configmaps"] + left["secrets"])  # fmt: skip
    assert kube.status("dev", "expenses") is not None and kube.status("qa", "expenses") is None
    assert kube.undeploy("qa", "expenses") is False


def test_transient_api_errors_are_retried(kube_cluster: Any, namespace: str) -> None:
    with FlakyApiServer(
        kube_cluster.server, kube_cluster.tls(), fail={"PATCH": 3, "GET": 2}
    ) as flaky:
        config = KubernetesRuntimeConfig(
            kubeconfig=SecretStr(flaky.kubeconfig()), namespace=namespace, poll_interval=0.2
        )
        result = KubernetesRuntime(config).deploy(request("1.0.0", 1))
    assert result.release == "1.0.0"
    assert flaky.failed == {"PATCH": 3, "GET": 2}


def test_a_bad_kubeconfig_fails_clearly() -> None:
    for text in ("not: [a kubeconfig", "apiVersion: v1\nkind: Config\n", "just text"):
        config = KubernetesRuntimeConfig(kubeconfig=SecretStr(text), namespace="qa")
        with pytest.raises(StageError, match="the stage's kubeconfig cannot be used"):
            KubernetesRuntime(config).status("qa", "expenses")


def test_a_missing_namespace_fails_clearly(kube_cluster: Any) -> None:
    with pytest.raises(DeployError, match="namespace 'nowhere' does not exist"):
        runtime(kube_cluster, "nowhere").deploy(request("1.0.0", 1))


def test_nothing_is_applied_while_the_request_holds_the_switch(
    kube_cluster: Any, namespace: str
) -> None:
    import threading
    import time

    kube = runtime(kube_cluster, namespace)
    kube.deploy(request("1.0.0", 1))
    held = threading.Event()
    held.set()
    outcome: list[object] = []
    second = request("1.1.0", 2).model_copy(update={"hold": held.is_set})
    thread = threading.Thread(target=lambda: outcome.append(kube.deploy(second)))
    thread.start()
    time.sleep(2.0)
    status = kube.status("qa", "expenses")
    assert status is not None and status.release == "1.0.0"  # not applied while held
    held.clear()
    thread.join(120)
    assert outcome and kube.status("qa", "expenses").release == "1.1.0"  # type: ignore[union-attr]

    reason = "the database scripts failed: refused"
    third = request("1.2.0", 3).model_copy(update={"hold": lambda: True, "abort": lambda: reason})
    with pytest.raises(DeployError, match="was not applied on qa: the rollout was abandoned"):
        kube.deploy(third)
    assert kube.status("qa", "expenses").release == "1.1.0"  # type: ignore[union-attr]
    assert kube.reap("qa", "expenses") == []
