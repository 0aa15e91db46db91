"""Two stages with ``runtime: kubernetes`` in two namespaces of a real control plane: publish,
promotion of the same digest with other settings, a settings-only change, render (checked by
the API server's dry run), status and undeploy."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from kubernetes import client as k8s

from blocks import Registry
from flows.configure_app import apply_configuration
from flows.promote_app import promote_app
from flows.publish_app import publish_app
from oneclick.cli.main import cli
from oneclick.home import Home
from oneclick.images.runtime_image import RuntimeImageResult
from oneclick.releases import Catalog
from tests.oneclick.images.registry_support import RunningRegistry
from tests.support import EXAMPLES, RUNTIME_PREFIX, SECRET


def stage_fields(cluster: Any, registry: str, namespace: str, limit: str) -> dict[str, Any]:
    return {
        "runtime": "kubernetes",
        "registry": registry,
        "kubeconfig": cluster.kubeconfig.read_text(),
        "kubernetes": {"namespace": namespace, "replicas": 2, "progress_deadline": 30},
        "settings": {"expenses": {"ApprovalLimit": limit}},
    }


@pytest.fixture
def kube_stages(
    kube_cluster: Any,
    registry: RunningRegistry,
    runtime_base: RuntimeImageResult,
    stage_block: Callable[..., str],
) -> Iterator[dict[str, str]]:
    """kube-dev and kube-qa, each in a namespace of its own; yields stage -> namespace."""
    suffix = uuid.uuid4().hex[:8]
    name = f"registry-{suffix}"
    Registry(url=registry.host, insecure=True, prefix=RUNTIME_PREFIX).save(name)
    core = k8s.CoreV1Api(kube_cluster.api_client())
    namespaces = {"kube-dev": f"dev-{suffix}", "kube-qa": f"qa-{suffix}"}
    for order, (stage, namespace) in enumerate(namespaces.items()):
        core.create_namespace({"metadata": {"name": namespace}})
        limit = "4000" if stage == "kube-dev" else "250"
        stage_block(stage, order=40 + order, **stage_fields(kube_cluster, name, namespace, limit))
    yield namespaces
    for namespace in namespaces.values():
        core.delete_namespace(namespace)
    Registry.delete(name)


def settings_of(api: k8s.ApiClient, namespace: str, name: str) -> dict[str, str]:
    deployment = k8s.AppsV1Api(api).read_namespaced_deployment(name, namespace)
    sources = deployment.spec.template.spec.containers[0].env_from
    config_map = next(s.config_map_ref.name for s in sources if s.config_map_ref)
    return dict(k8s.CoreV1Api(api).read_namespaced_config_map(config_map, namespace).data)


def test_publish_promote_reconfigure_render_and_undeploy_on_kubernetes(
    published_libraries: Path,
    kube_cluster: Any,
    kube_stages: dict[str, str],
    stage_block: Callable[..., str],
) -> None:
    api = kube_cluster.api_client()
    apps = k8s.AppsV1Api(api)
    dev_ns, qa_ns = kube_stages["kube-dev"], kube_stages["kube-qa"]
    dev = publish_app(str(EXAMPLES / "expenses"), "kube-dev")
    assert dev.url == f"http://expenses-kube-dev.{dev_ns}.svc:80"
    qa = promote_app("expenses", "kube-dev", "kube-qa")
    assert (qa.version, qa.image_digest) == (dev.version, dev.image_digest)

    images = {
        ns: apps.read_namespaced_deployment(f"expenses-{stage}", ns)
        for stage, ns in kube_stages.items()
    }
    for deployment in images.values():
        assert deployment.spec.template.spec.containers[0].image == dev.image_reference
        assert deployment.status.available_replicas == 2
    promoted = Catalog(Home.from_env().catalog_url).current("expenses", "kube-qa")
    assert promoted is not None
    qa_annotations = images[qa_ns].metadata.annotations
    assert qa_annotations["oneclick.dev/flow-run"] == promoted.flow_run_id
    assert settings_of(api, dev_ns, "expenses-kube-dev")["ONECLICK_SETTING_ApprovalLimit"] == "4000"
    assert settings_of(api, qa_ns, "expenses-kube-qa")["ONECLICK_SETTING_ApprovalLimit"] == "250"

    # a settings-only change: no build, the same release, the pods rolled with the new value
    template_before = images[qa_ns].spec.template
    stage_block(
        "kube-qa", order=41, **stage_fields(kube_cluster, stage_registry(), qa_ns, limit="300")
    )
    again = apply_configuration("expenses", "kube-qa")
    assert (again.version, again.image_digest) == (qa.version, qa.image_digest)
    after = apps.read_namespaced_deployment("expenses-kube-qa", qa_ns)
    assert after.spec.template != template_before
    assert after.status.available_replicas == 2 and after.status.updated_replicas == 2
    assert settings_of(api, qa_ns, "expenses-kube-qa")["ONECLICK_SETTING_ApprovalLimit"] == "300"

    rendered = CliRunner().invoke(cli, ["render", "expenses", "--stage", "kube-qa"])
    assert rendered.exit_code == 0, rendered.output
    assert SECRET not in rendered.output
    kinds = [d["kind"] for d in yaml.safe_load_all(rendered.output)]
    assert kinds == ["ConfigMap", "Secret", "Deployment", "Service"]
    kubectl = kube_cluster.bin_dir / "kubectl"
    if kubectl.exists():
        checked = subprocess.run(
            [str(kubectl), "--kubeconfig", str(kube_cluster.kubeconfig), "apply",
             "--dry-run=server", "--server-side", "--field-manager=oneclick", "-f", "-"],
            input=rendered.output, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stderr
        assert "serverside-applied (server dry run)" in checked.stdout, checked.stdout

    status = CliRunner().invoke(cli, ["status", "expenses"])
    rows = {line.split()[1]: line.split() for line in status.output.splitlines()[1:] if line}
    assert rows["kube-qa"][7] == f"deployment/{qa_ns}/expenses-kube-qa"
    assert rows["kube-qa"][8] == "ready"

    removed = CliRunner().invoke(cli, ["undeploy", "expenses", "--stage", "kube-qa"])
    assert removed.exit_code == 0, removed.output
    left = apps.list_namespaced_deployment(qa_ns).items
    assert left == [] and apps.list_namespaced_deployment(dev_ns).items


def stage_registry() -> str:
    from blocks import Stage

    block = Stage.load("kube-qa")
    assert isinstance(block, Stage)
    return block.registry
