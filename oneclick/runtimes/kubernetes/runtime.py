"""The ``kubernetes`` stage runtime: each (stage, app) is a Deployment and a Service.

``KubernetesRuntime(config, registry).deploy(request)``:

1. reads the Deployment as it is (the previous release's template, for a rollback);
2. renders the release (``manifests.render``) and applies every object with server-side
   apply, field manager ``oneclick``;
3. waits for the rollout: the controller has seen the new generation, every replica is
   updated and available and no old one is left; it fails when the Progressing condition
   says ``ProgressDeadlineExceeded``, when the request is aborted (the schema failed) or
   after twice the deadline;
4. failed: re-applies the previous template (the controller scales the old ReplicaSet,
   which kept serving throughout: ``maxUnavailable: 0``), waits for it, and raises
   ``DeployError``; a first deploy that fails is deleted instead;
5. succeeded: deletes this app's ConfigMaps and Secrets no ReplicaSet refers to any more.

The cluster is the record: ``status`` and ``instances`` read the Deployments oneclick made,
``stop`` scales to zero, ``undeploy`` deletes the objects carrying this app's and stage's
labels and ``managed-by: oneclick``, and nothing else.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes.client.exceptions import ApiException

from oneclick.errors import DeployError
from oneclick.registry import RegistryConfig
from oneclick.runtimes.kubernetes import manifests as m
from oneclick.runtimes.kubernetes.api import Api, connect
from oneclick.runtimes.kubernetes.config import KubernetesRuntimeConfig
from oneclick.runtimes.probe import ignore_progress
from oneclick.runtimes.redact import redact
from oneclick.runtimes.types import (
    AbortCheck,
    DeployRequest,
    DeployResult,
    InstanceStatus,
    ProgressCallback,
)

Manifest = dict[str, Any]


class KubernetesRuntime:
    """Runs each app of a stage as a Deployment in ``config.namespace``."""

    def __init__(
        self,
        config: KubernetesRuntimeConfig,
        registry: RegistryConfig | None = None,
        api: Api | None = None,
    ) -> None:
        self.config = config
        self.registry = registry
        self._api = api

    @property
    def api(self) -> Api:
        if self._api is None:
            self._api = Api(connect(self.config))
        return self._api

    @property
    def namespace(self) -> str:
        return self.config.namespace

    def render(self, request: DeployRequest) -> list[Manifest]:
        """The objects ``request`` becomes (secret values included: for applying only)."""
        image = request.image_reference
        if not image or "@sha256:" not in image:
            raise DeployError(
                f"cannot deploy {request.app} {request.release} to {request.stage}: a "
                "Kubernetes stage runs images from a registry, pinned by digest, and this "
                "release has none; give the publishing stage a registry and publish again"
            )
        auth = None
        if self.registry is not None and self.registry.username and self.registry.password:
            password = self.registry.password.get_secret_value()
            auth = (self.registry.host, self.registry.username, password)
        return m.render(
            app=request.app,
            stage=request.stage,
            release=request.release,
            digest=request.image_digest,
            image=image,
            env=request.env,
            config=self.config,
            registry_auth=auth,
            flow_run=request.flow_run,
        )

    def deploy(self, request: DeployRequest) -> DeployResult:
        progress = request.on_progress or ignore_progress
        objects = self.render(request)
        name = m.base_name(request.app, request.stage)
        previous = self.api.get(self.api.apps.read_namespaced_deployment, name, self.namespace)
        previous_release = _annotation(previous, m.RELEASE) if previous else None
        waited = self._await_switch(request, progress)
        if waited is not None:
            raise DeployError(
                f"{request.app} {request.release} was not applied on {request.stage}: "
                f"{waited}; nothing changed, {previous_release or 'nothing'} keeps serving"
            )
        stored = {o["kind"]: self.api.apply(o) for o in objects}
        deployment = next(o for o in objects if o["kind"] == "Deployment")
        progress(f"applied {len(objects)} objects of {name} in namespace {self.namespace}")
        failure = self._wait(name, _generation(stored["Deployment"]), request.abort, progress)
        if failure is not None:
            failure = redact(failure, request.env)
            if previous is None:
                self._delete_app(request.stage, request.app)
                raise DeployError(
                    f"{request.app} {request.release} did not become available on "
                    f"{request.stage}: {failure}; it was removed (nothing ran there before)"
                )
            self._roll_back(deployment, previous, progress)
            raise DeployError(
                f"{request.app} {request.release} did not become available on "
                f"{request.stage}: {failure}; rolled back, {previous_release} keeps serving"
            )
        self._collect_garbage(request.stage, request.app)
        return DeployResult(
            stage=request.stage,
            app=request.app,
            release=request.release,
            digest=request.image_digest,
            url=m.service_url(request.app, request.stage, self.namespace),
            pid=0,
            port=m.SERVICE_PORT,
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            log=Path(""),
            previous_release=previous_release,
            instance=f"deployment/{self.namespace}/{name}",
        )

    def _await_switch(self, request: DeployRequest, progress: ProgressCallback) -> str | None:
        """Applying the Deployment is the switch: wait while the request holds it (its
        database scripts run). None when free to go; else why the rollout was abandoned."""
        told = False
        while request.hold is not None and request.hold():
            reason = request.abort() if request.abort else None
            if reason:
                return f"the rollout was abandoned: {reason}"
            if not told:
                progress("waiting for the database scripts before applying")
                told = True
            time.sleep(self.config.poll_interval)
        reason = request.abort() if request.abort else None
        return f"the rollout was abandoned: {reason}" if reason else None

    def reap(self, stage: str, app: str) -> list[str]:
        """Nothing to reap: a Deployment has one template, and the next apply replaces what
        a killed rollout applied (its old ReplicaSet kept serving until the new one was
        ready)."""
        return []

    def _wait(
        self, name: str, generation: int, abort: AbortCheck | None, progress: ProgressCallback
    ) -> str | None:
        """None once the rollout is complete; otherwise why it is not."""
        wanted = self.config.replicas
        limit = 2 * self.config.progress_deadline + 30
        give_up = time.monotonic() + limit
        last = ""
        while True:
            reason = abort() if abort else None
            if reason:
                return reason
            current = self.api.get(
                self.api.apps.read_namespaced_deployment_status, name, self.namespace
            )
            if current is None:
                return f"Deployment {self.namespace}/{name} was deleted during the rollout"
            status = current.get("status") or {}
            if status.get("observedGeneration", 0) >= generation:
                for condition in status.get("conditions") or []:
                    if condition.get("reason") == "ProgressDeadlineExceeded":
                        return (
                            f"no progress within {self.config.progress_deadline}s "
                            f"({condition.get('message', '')})"
                        )
                updated = status.get("updatedReplicas", 0)
                available = status.get("availableReplicas", 0)
                total = status.get("replicas", 0)
                line = f"{updated}/{wanted} updated, {available} available, {total} in all"
                if line != last:
                    progress(f"{name}: {line}")
                    last = line
                if updated == wanted and available >= wanted and total == wanted:
                    return None
            if time.monotonic() > give_up:
                return f"the rollout did not finish in {limit}s"
            time.sleep(self.config.poll_interval)

    def _roll_back(
        self, deployment: Manifest, previous: Manifest, progress: ProgressCallback
    ) -> None:
        """Apply the previous template again and wait until it is available."""
        annotations = previous["metadata"].get("annotations") or {}
        kept = {k: v for k, v in annotations.items() if k.startswith("oneclick.dev/")}
        rollback = {
            **deployment,
            "metadata": {**deployment["metadata"], "annotations": kept},
            "spec": {**deployment["spec"], "template": previous["spec"]["template"]},
        }
        name = deployment["metadata"]["name"]
        progress(f"rolling {name} back to {kept.get(m.RELEASE, 'the previous release')}")
        applied = self.api.apply(rollback)
        failure = self._wait(name, _generation(applied), None, progress)
        if failure is not None:
            progress(f"the rollback of {name} is not complete either: {failure}")

    def status(self, stage: str, app: str) -> InstanceStatus | None:
        name = m.base_name(app, stage)
        found = self.api.get(self.api.apps.read_namespaced_deployment, name, self.namespace)
        return self._check(found, stage, app) if found else None

    def instances(self) -> list[InstanceStatus]:
        found = self.api.items(
            self.api.apps.list_namespaced_deployment,
            self.namespace,
            label_selector=f"{m.MANAGED_BY}=oneclick",
        )
        return [self._check(d, _label(d, m.STAGE_LABEL), _label(d, m.APP_LABEL)) for d in found]

    def stop(self, stage: str, app: str) -> bool:
        """Scale the app's Deployment to zero (it stays); True if it ran."""
        name = m.base_name(app, stage)
        found = self.api.get(self.api.apps.read_namespaced_deployment, name, self.namespace)
        if found is None or not found["spec"].get("replicas"):
            return False
        self.api.call(
            self.api.apps.patch_namespaced_deployment_scale,
            name,
            self.namespace,
            {"spec": {"replicas": 0}},
        )
        return True

    def stop_all(self) -> list[InstanceStatus]:
        return [i for i in self.instances() if self.stop(i.stage, i.app)]

    def undeploy(self, stage: str, app: str) -> bool:
        return self._delete_app(stage, app)

    def _owned(self, stage: str, app: str) -> str:
        selector = {**m.selector(app, stage), m.MANAGED_BY: "oneclick"}
        return ",".join(f"{k}={v}" for k, v in selector.items())

    def _delete_app(self, stage: str, app: str) -> bool:
        """Delete what oneclick made for (stage, app): nothing without its labels."""
        api, namespace, selector = self.api, self.namespace, self._owned(stage, app)
        name = m.base_name(app, stage)
        deleted = False
        for read, delete in (
            (api.apps.read_namespaced_deployment, api.apps.delete_namespaced_deployment),
            (api.core.read_namespaced_service, api.core.delete_namespaced_service),
        ):
            found = api.get(read, name, namespace)
            if found is not None and _owned_by_us(found, stage, app):
                self._delete(delete, name)
                deleted = True
        for lister, delete in (
            (api.core.list_namespaced_config_map, api.core.delete_namespaced_config_map),
            (api.core.list_namespaced_secret, api.core.delete_namespaced_secret),
        ):
            for item in api.items(lister, namespace, label_selector=selector):
                self._delete(delete, item["metadata"]["name"])
                deleted = True
        return deleted

    def _delete(self, delete: Any, name: str) -> None:
        try:
            self.api.call(delete, name, self.namespace, propagation_policy="Background")
        except ApiException as exc:
            if exc.status != 404:
                raise

    def _collect_garbage(self, stage: str, app: str) -> None:
        """Delete ConfigMaps and Secrets of (stage, app) that no ReplicaSet refers to."""
        api, selector = self.api, self._owned(stage, app)
        sets = api.items(
            api.apps.list_namespaced_replica_set, self.namespace, label_selector=selector
        )
        if not sets:
            return
        used: set[str] = set()
        for replica_set in sets:
            spec = replica_set["spec"]["template"]["spec"]
            used |= {str(s["name"]) for s in spec.get("imagePullSecrets") or []}
            for container in spec["containers"]:
                for source in container.get("envFrom") or []:
                    ref = source.get("configMapRef") or source.get("secretRef") or {}
                    used.add(str(ref.get("name", "")))
        for lister, delete in (
            (api.core.list_namespaced_config_map, api.core.delete_namespaced_config_map),
            (api.core.list_namespaced_secret, api.core.delete_namespaced_secret),
        ):
            for item in api.items(lister, self.namespace, label_selector=selector):
                if item["metadata"]["name"] not in used:
                    self._delete(delete, item["metadata"]["name"])

    def _check(self, deployment: Manifest, stage: str, app: str) -> InstanceStatus:
        status = deployment.get("status") or {}
        wanted = deployment["spec"].get("replicas", 0)
        available = status.get("availableReplicas", 0)
        updated = status.get("updatedReplicas", 0)
        return InstanceStatus(
            stage=stage,
            app=app,
            release=_annotation(deployment, m.RELEASE),
            digest=_annotation(deployment, m.DIGEST),
            url=m.service_url(app, stage, self.namespace),
            pid=0,
            port=m.SERVICE_PORT,
            started_at=str(deployment["metadata"].get("creationTimestamp", "")),
            alive=available > 0,
            healthy=wanted > 0 and available >= wanted and updated >= wanted,
            instance=f"deployment/{self.namespace}/{deployment['metadata']['name']}",
        )


def _annotation(obj: Manifest, key: str) -> str:
    return str((obj["metadata"].get("annotations") or {}).get(key, ""))


def _label(obj: Manifest, key: str) -> str:
    return str((obj["metadata"].get("labels") or {}).get(key, ""))


def _generation(applied: Manifest) -> int:
    return int(applied["metadata"].get("generation") or 0)


def _owned_by_us(obj: Manifest, stage: str, app: str) -> bool:
    wanted = {**m.selector(app, stage), m.MANAGED_BY: "oneclick"}
    return all(_label(obj, k) == v for k, v in wanted.items())
