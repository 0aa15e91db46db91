"""What a Kubernetes work pool needs to run oneclick's flows as Jobs: the worker's service
account, its rights in each stage namespace, and the work pool's base job template.

- ``service_account(namespace, name)``: the account the flow-run Jobs run as;
- ``stage_access(stage_namespace, account, account_namespace)``: a Role with exactly what the
  kubernetes runtime does (server-side apply, read, scale and delete Deployments, Services,
  ConfigMaps and Secrets it labels; list ReplicaSets to collect old configuration) and its
  RoleBinding, one per stage namespace;
- ``base_job_template(...)``: the document ``prefect work-pool create --type kubernetes
  --base-job-template FILE`` takes. Each flow run is a Job of the worker image, as the
  service account, with its environment from a Secret (PREFECT_API_URL and the like: never
  in the template) and fixed resources; Prefect fills ``{{ command }}``, ``{{ env }}`` and
  the other placeholders per run.
"""

from __future__ import annotations

import re
from typing import Any

from oneclick.errors import StageError
from oneclick.runtimes.kubernetes.config import DNS_LABEL

ROLE = "oneclick-stage-runtime"
RULES: list[dict[str, Any]] = [
    {
        "apiGroups": ["apps"],
        "resources": ["deployments"],
        "verbs": ["get", "list", "watch", "create", "patch", "update", "delete"],
    },
    {"apiGroups": ["apps"], "resources": ["deployments/status"], "verbs": ["get"]},
    {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["get", "patch"]},
    {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["get", "list"]},
    {
        "apiGroups": [""],
        "resources": ["services", "configmaps", "secrets"],
        "verbs": ["get", "list", "create", "patch", "update", "delete"],
    },
]
DEFAULT_RESOURCES = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}}


def _label(value: str, what: str) -> str:
    if not re.match(DNS_LABEL, value):
        raise StageError(
            f"{what} {value!r} is not a Kubernetes name: lower-case letters, digits and '-', "
            "at most 63 characters, starting and ending with a letter or digit"
        )
    return value


def service_account(namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": _label(name, "service account"),
            "namespace": _label(namespace, "namespace"),
            "labels": {"app.kubernetes.io/managed-by": "oneclick"},
        },
    }


def stage_access(
    stage_namespace: str, account: str, account_namespace: str
) -> list[dict[str, Any]]:
    """The Role and RoleBinding that let ``account`` run a stage in ``stage_namespace``."""
    meta = {
        "namespace": _label(stage_namespace, "namespace"),
        "labels": {"app.kubernetes.io/managed-by": "oneclick"},
    }
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": ROLE, **meta},
            "rules": RULES,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": f"{ROLE}-{_label(account, 'service account')}", **meta},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ROLE},
            "subjects": [
                {
                    "kind": "ServiceAccount",
                    "name": account,
                    "namespace": _label(account_namespace, "namespace"),
                }
            ],
        },
    ]


def base_job_template(
    image: str,
    *,
    namespace: str,
    service_account_name: str,
    env_secret: str,
    resources: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """A Kubernetes work pool's base job template for oneclick's worker image."""
    container = {
        "name": "prefect-job",
        "image": "{{ image }}",
        "imagePullPolicy": "{{ image_pull_policy }}",
        "args": "{{ command }}",
        "env": "{{ env }}",
        "envFrom": [{"secretRef": {"name": _label(env_secret, "secret")}}],
        "resources": resources or DEFAULT_RESOURCES,
    }
    manifest = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "generateName": "{{ name }}-",
            "labels": "{{ labels }}",
            "namespace": "{{ namespace }}",
        },
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": "{{ finished_job_ttl }}",
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "serviceAccountName": "{{ service_account_name }}",
                    "containers": [container],
                }
            },
        },
    }
    variables = {
        "image": ("The oneclick worker image (oneclick worker build --push).", image),
        "namespace": ("The namespace flow-run Jobs run in.", _label(namespace, "namespace")),
        "service_account_name": (
            "The service account of the Jobs (its Roles reach the stage namespaces).",
            _label(service_account_name, "service account"),
        ),
        "image_pull_policy": ("When the node pulls the image.", "IfNotPresent"),
        "finished_job_ttl": ("Seconds a finished Job is kept.", 3600),
        "job_watch_timeout_seconds": ("Seconds to wait for the Job to finish.", None),
        "pod_watch_timeout_seconds": ("Seconds to wait for the pod to start.", 300),
        "stream_output": ("Stream the Job's output to the worker's log.", True),
    }
    properties: dict[str, Any] = {
        name: {"title": name.replace("_", " ").capitalize(), "description": text, "default": value}
        for name, (text, value) in variables.items()
    }
    for name in ("name", "command"):
        properties[name] = {"title": name.capitalize(), "type": "string"}
    properties["env"] = {"title": "Environment", "type": "object"}
    properties["labels"] = {"title": "Labels", "type": "object"}
    return {
        "job_configuration": {
            "command": "{{ command }}",
            "env": "{{ env }}",
            "labels": "{{ labels }}",
            "name": "{{ name }}",
            "namespace": "{{ namespace }}",
            "job_manifest": manifest,
            "cluster_config": None,
            "job_watch_timeout_seconds": "{{ job_watch_timeout_seconds }}",
            "pod_watch_timeout_seconds": "{{ pod_watch_timeout_seconds }}",
            "stream_output": "{{ stream_output }}",
        },
        "variables": {"type": "object", "properties": properties},
    }
