"""The objects a release of an app becomes on a Kubernetes stage, as plain dicts.

``render(...)`` gives, in apply order: a ConfigMap holding the settings, a Secret holding the
secrets and the database URL, an image pull Secret when the registry needs credentials, the
Deployment and its Service. ConfigMap and Secret are immutable and named after a digest of
their content (``<app>-<stage>-config-<hex>``): a settings change gives the pod template a
new reference, which rolls the pods, and a rolled-back template still finds its own
configuration. Secret values appear in the Secret only: never in a label, an annotation or
the ConfigMap. Every object carries ``app.kubernetes.io/managed-by: oneclick`` and the
``oneclick.dev/app`` and ``oneclick.dev/stage`` labels, which is how undeploy finds what it
made and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from oneclick.images.spec import APP_PORT
from oneclick.runtimes.kubernetes.config import KubernetesRuntimeConfig
from oneclick.stages import DATABASE_ENV, SECRET_PREFIX

MANAGED_BY = "app.kubernetes.io/managed-by"
APP_LABEL = "oneclick.dev/app"
STAGE_LABEL = "oneclick.dev/stage"
APP_ANNOTATION = "oneclick.dev/app"
STAGE_ANNOTATION = "oneclick.dev/stage"
RELEASE = "oneclick.dev/release"
DIGEST = "oneclick.dev/digest"
FLOW_RUN = "oneclick.dev/flow-run"
SERVICE_PORT = 80
Manifest = dict[str, Any]


def base_name(app: str, stage: str) -> str:
    """``<app>-<stage>`` as a DNS label (the Deployment's and the Service's name)."""
    name = re.sub(r"[^a-z0-9-]+", "-", f"{app}-{stage}".lower()).strip("-")
    return name[:50].rstrip("-")


def selector(app: str, stage: str) -> dict[str, str]:
    return {APP_LABEL: app.lower(), STAGE_LABEL: stage.lower()}


def labels(app: str, stage: str) -> dict[str, str]:
    return {**selector(app, stage), MANAGED_BY: "oneclick", "app.kubernetes.io/name": app.lower()}


def is_secret(name: str) -> bool:
    return name == DATABASE_ENV or name.startswith(SECRET_PREFIX)


def _digest(values: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(dict(sorted(values.items()))).encode()).hexdigest()[:10]


def _metadata(name: str, app: str, stage: str, namespace: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": labels(app, stage)}


def config_map(app: str, stage: str, namespace: str, settings: Mapping[str, str]) -> Manifest:
    name = f"{base_name(app, stage)}-config-{_digest(settings)}"
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(name, app, stage, namespace),
        "immutable": True,
        "data": dict(sorted(settings.items())),
    }


def secret(app: str, stage: str, namespace: str, secrets: Mapping[str, str]) -> Manifest:
    name = f"{base_name(app, stage)}-secret-{_digest(secrets)}"
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in sorted(secrets.items())}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _metadata(name, app, stage, namespace),
        "immutable": True,
        "type": "Opaque",
        "data": encoded,
    }


def pull_secret(
    app: str, stage: str, namespace: str, host: str, username: str, password: str
) -> Manifest:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    config = {"auths": {host: {"username": username, "password": password, "auth": token}}}
    document = json.dumps(config, sort_keys=True)
    name = f"{base_name(app, stage)}-pull-{_digest({'config': document})}"
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _metadata(name, app, stage, namespace),
        "immutable": True,
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64.b64encode(document.encode()).decode()},
    }


def _probe(path: str, period: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": 3,
    }


def deployment(
    *,
    app: str,
    stage: str,
    release: str,
    digest: str,
    image: str,
    config: KubernetesRuntimeConfig,
    config_name: str,
    secret_name: str,
    pull_secret_name: str | None = None,
    flow_run: str | None = None,
) -> Manifest:
    name = base_name(app, stage)
    template_annotations = {RELEASE: release, DIGEST: digest}
    annotations = {
        APP_ANNOTATION: app,
        STAGE_ANNOTATION: stage,
        **template_annotations,
        **({FLOW_RUN: flow_run} if flow_run else {}),
    }
    pod_spec: dict[str, Any] = {
        "containers": [
            {
                "name": "app",
                "image": image,
                "ports": [{"name": "http", "containerPort": APP_PORT}],
                "envFrom": [
                    {"configMapRef": {"name": config_name}},
                    {"secretRef": {"name": secret_name}},
                ],
                "readinessProbe": _probe("/readyz", 2),
                "livenessProbe": _probe("/healthz", 10),
                "resources": config.resources,
            }
        ],
        "enableServiceLinks": False,
        "automountServiceAccountToken": False,
    }
    if pull_secret_name:
        pod_spec["imagePullSecrets"] = [{"name": pull_secret_name}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {**_metadata(name, app, stage, config.namespace), "annotations": annotations},
        "spec": {
            "replicas": config.replicas,
            "revisionHistoryLimit": 5,
            "progressDeadlineSeconds": config.progress_deadline,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "selector": {"matchLabels": selector(app, stage)},
            "template": {
                "metadata": {
                    "labels": {**config.pod_labels, **labels(app, stage)},
                    "annotations": template_annotations,
                },
                "spec": pod_spec,
            },
        },
    }


def service(app: str, stage: str, namespace: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(base_name(app, stage), app, stage, namespace),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(app, stage),
            "ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": "http"}],
        },
    }


def service_url(app: str, stage: str, namespace: str) -> str:
    return f"http://{base_name(app, stage)}.{namespace}.svc:{SERVICE_PORT}"


def render(
    *,
    app: str,
    stage: str,
    release: str,
    digest: str,
    image: str,
    env: Mapping[str, str],
    config: KubernetesRuntimeConfig,
    registry_auth: tuple[str, str, str] | None = None,
    flow_run: str | None = None,
) -> list[Manifest]:
    """Every object of one release on one stage, in apply order. ``registry_auth`` is
    (host, username, password) for the image pull Secret."""
    namespace = config.namespace
    settings = {k: v for k, v in env.items() if not is_secret(k)}
    secrets = {k: v for k, v in env.items() if is_secret(k)}
    objects = [config_map(app, stage, namespace, settings), secret(app, stage, namespace, secrets)]
    pull_name = None
    if registry_auth is not None:
        objects.append(pull_secret(app, stage, namespace, *registry_auth))
        pull_name = objects[-1]["metadata"]["name"]
    objects.append(
        deployment(
            app=app,
            stage=stage,
            release=release,
            digest=digest,
            image=image,
            config=config,
            config_name=objects[0]["metadata"]["name"],
            secret_name=objects[1]["metadata"]["name"],
            pull_secret_name=pull_name,
            flow_run=flow_run,
        )
    )
    objects.append(service(app, stage, namespace))
    return objects
