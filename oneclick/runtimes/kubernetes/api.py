"""A Kubernetes API client from a stage's configuration, and calls that retry what is
transient (5xx, 429, 409 conflicts, dropped connections) and explain what is not.

``connect(config)`` builds the official client's ``ApiClient`` from the kubeconfig (a secret
string, never written to a log) or the in-cluster service account; a kubeconfig that cannot
be read fails at once with a ``StageError`` saying what to fix. ``Api.call(fn, ...)`` runs
one request: transient failures are retried with a growing pause (``attempts`` in all),
then raised as ``TransientError`` (the task may retry the whole step); 401/403 and other
client errors are raised as ``StageError``/``DeployError`` with the API's own message.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import urllib3.exceptions
import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.incluster_config import InClusterConfigLoader

from oneclick.errors import DeployError, StageError, TransientError
from oneclick.runtimes.kubernetes.config import KubernetesRuntimeConfig

log = logging.getLogger(__name__)
T = TypeVar("T")
TRANSIENT_STATUS = frozenset({409, 429, 500, 502, 503, 504})
FIELD_MANAGER = "oneclick"
# where a pod finds its service account's token and CA; ONECLICK_SERVICEACCOUNT_DIR names
# another place (a projected token mounted elsewhere)
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def connect(config: KubernetesRuntimeConfig) -> k8s.ApiClient:
    """The API client for ``config``'s cluster and context."""
    if config.kubeconfig is None:
        configuration = k8s.Configuration()
        account = Path(os.environ.get("ONECLICK_SERVICEACCOUNT_DIR") or SERVICE_ACCOUNT_DIR)
        try:
            InClusterConfigLoader(  # type: ignore[no-untyped-call]
                token_filename=str(account / "token"), cert_filename=str(account / "ca.crt")
            ).load_and_set(configuration)
        except ConfigException as exc:
            raise StageError(
                f"the stage has no kubeconfig and this is not a pod with a service account "
                f"({exc}); paste a kubeconfig into the stage block's 'kubeconfig'"
            ) from exc
        return k8s.ApiClient(configuration)
    try:
        document = yaml.safe_load(config.kubeconfig.get_secret_value())
        if not isinstance(document, dict):
            raise ConfigException("expected a kubeconfig YAML document (clusters, users, contexts)")
        made = k8s_config.new_client_from_config_dict(document, context=config.context)  # type: ignore[no-untyped-call]
        return cast(k8s.ApiClient, made)
    except (yaml.YAMLError, ConfigException, KeyError, TypeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StageError(
            f"the stage's kubeconfig cannot be used: {reason}; paste a valid kubeconfig "
            "(kubectl config view --raw --minify) into the stage block"
        ) from None


def api_message(exc: ApiException) -> str:
    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except (ValueError, AttributeError):
        return str(exc.reason)


class Api:
    """Typed APIs of one cluster, and ``call`` with bounded retries."""

    def __init__(self, api_client: k8s.ApiClient, attempts: int = 6, pause: float = 0.2) -> None:
        self.client = api_client
        self.core = k8s.CoreV1Api(api_client)
        self.apps = k8s.AppsV1Api(api_client)
        self.attempts = attempts
        self.pause = pause

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)``, retried while the failure is transient."""
        pause = self.pause
        for attempt in range(1, self.attempts + 1):
            try:
                return fn(*args, **kwargs)
            except ApiException as exc:
                if exc.status in (401, 403):
                    raise StageError(
                        f"the Kubernetes API refused oneclick ({exc.status} {exc.reason}): "
                        f"{api_message(exc)}; give the stage's kubeconfig user the rights to "
                        "manage Deployments, Services, ConfigMaps and Secrets in the namespace"
                    ) from None
                if exc.status not in TRANSIENT_STATUS:
                    raise
                failure = f"{exc.status} {exc.reason}: {api_message(exc)}"
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                failure = f"{type(exc).__name__}: {exc}"
            if attempt == self.attempts:
                raise TransientError(
                    f"the Kubernetes API kept failing ({failure}) after {attempt} attempts"
                )
            log.warning("Kubernetes API: %s; retrying in %.1fs", failure, pause)
            time.sleep(pause)
            pause = min(pause * 2, 5.0)
        raise AssertionError("unreachable")

    def apply(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Server-side apply ``manifest`` as field manager ``oneclick``; the object as stored."""
        kind = manifest["kind"]
        name = manifest["metadata"]["name"]
        namespace = manifest["metadata"]["namespace"]
        calls: dict[str, Callable[..., Any]] = {
            "Deployment": self.apps.patch_namespaced_deployment,
            "Service": self.core.patch_namespaced_service,
            "ConfigMap": self.core.patch_namespaced_config_map,
            "Secret": self.core.patch_namespaced_secret,
        }
        try:
            stored = self.call(
                calls[kind],
                name,
                namespace,
                manifest,
                field_manager=FIELD_MANAGER,
                force=True,
                _content_type="application/apply-patch+yaml",
            )
        except ApiException as exc:
            if exc.status == 404:
                raise DeployError(
                    f"namespace {namespace!r} does not exist in the cluster: create it "
                    f"(kubectl create namespace {namespace}) or correct the stage's namespace"
                ) from None
            raise DeployError(
                f"the Kubernetes API refused {kind} {namespace}/{name}: {api_message(exc)}"
            ) from None
        return self.plain(stored)

    def plain(self, obj: Any) -> dict[str, Any]:
        """An API object as the plain dict a manifest is (camelCase keys, no None values)."""
        return cast(dict[str, Any], self.client.sanitize_for_serialization(obj))  # type: ignore[no-untyped-call]

    def get(self, fn: Callable[..., Any], *args: Any) -> dict[str, Any] | None:
        """One object as a plain dict; None for 404."""
        try:
            return self.plain(self.call(fn, *args))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def items(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        """A list call's items as plain dicts."""
        return list(self.plain(self.call(fn, *args, **kwargs)).get("items") or [])
