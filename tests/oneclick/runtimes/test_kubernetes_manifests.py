"""What a release becomes on a Kubernetes stage, before any cluster sees it."""

from __future__ import annotations

import base64
import json
from typing import Any

from oneclick.runtimes.kubernetes.config import KubernetesRuntimeConfig
from oneclick.runtimes.kubernetes.manifests import render
from tests.support import SECRET

DIGEST = "sha256:" + "ab" * 32
ENV = {
    "ONECLICK_SETTING_ApprovalLimit": "500",
    "ONECLICK_SECRET_PaymentsApiKey": SECRET,
    "ONECLICK_DATABASE_URL": f"postgresql+psycopg://app:{SECRET}@db/expenses",
}


def objects(env: dict[str, str] = ENV, **config: Any) -> dict[str, dict[str, Any]]:
    rendered = render(
        app="expenses",
        stage="qa",
        release="1.0.0+abc",
        digest=DIGEST,
        image=f"registry.test/apps/expenses@{DIGEST}",
        env=env,
        config=KubernetesRuntimeConfig(namespace="qa", **config),
        registry_auth=("registry.test", "builder", SECRET + "-registry"),
        flow_run="run-1",
    )
    kinds = [o["kind"] for o in rendered]
    assert kinds == ["ConfigMap", "Secret", "Secret", "Deployment", "Service"]
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in rendered}


def test_secrets_live_in_secrets_only() -> None:
    rendered = objects()
    for key, manifest in rendered.items():
        text = json.dumps(manifest)
        if key.startswith("Secret/"):
            assert SECRET not in text  # base64 only
            continue
        assert SECRET not in text, key
        assert base64.b64encode(SECRET.encode()).decode() not in text, key
    config_map = next(o for k, o in rendered.items() if k.startswith("ConfigMap/"))
    assert config_map["data"] == {"ONECLICK_SETTING_ApprovalLimit": "500"}
    secret = next(o for k, o in rendered.items() if k.startswith("Secret/expenses-qa-secret-"))
    decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert decoded["ONECLICK_SECRET_PaymentsApiKey"] == SECRET


def test_the_deployment_runs_the_image_by_digest_with_probes_and_annotations() -> None:
    deployment = objects(replicas=3)["Deployment/expenses-qa"]
    spec = deployment["spec"]
    assert spec["replicas"] == 3
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"].endswith(f"@{DIGEST}")
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert next(ref["name"] for ref in pod["imagePullSecrets"]).startswith("expenses-qa-pull-")
    annotations = deployment["metadata"]["annotations"]
    assert annotations["oneclick.dev/flow-run"] == "run-1"
    assert (annotations["oneclick.dev/app"], annotations["oneclick.dev/stage"]) == (
        "expenses",
        "qa",
    )
    assert annotations["oneclick.dev/digest"] == DIGEST
    assert "oneclick.dev/flow-run" not in spec["template"]["metadata"]["annotations"]


def test_a_settings_change_changes_the_template_and_the_same_settings_do_not() -> None:
    def template() -> Any:
        return objects(env)["Deployment/expenses-qa"]["spec"]["template"]

    env = dict(ENV)
    first = template()
    assert template() == first
    env["ONECLICK_SETTING_ApprovalLimit"] = "900"
    assert template() != first
