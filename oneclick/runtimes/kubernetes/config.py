"""How a ``kubernetes`` stage reaches its cluster and shapes its workloads (a plain value; no
client import, so stage configurations can hold it cheaply)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"


class KubernetesOptions(BaseModel):
    """The non-secret part: a namespace, and the shape of each app's Deployment there."""

    context: str | None = Field(default=None, description="kubeconfig context; empty: current")
    namespace: str = Field(
        default="default", pattern=DNS_LABEL, description="the namespace apps are deployed to"
    )
    replicas: int = Field(default=1, ge=1, le=100)
    resources: dict[str, dict[str, str]] = Field(
        default_factory=lambda: {
            "requests": {"cpu": "50m", "memory": "96Mi"},
            "limits": {"memory": "256Mi"},
        },
        description="the app container's resources: {requests: {...}, limits: {...}}",
    )
    progress_deadline: int = Field(
        default=120, ge=5, description="seconds a rollout may make no progress before it fails"
    )
    pod_labels: dict[str, str] = Field(
        default_factory=dict, description="extra labels on the app's pods (e.g. for policies)"
    )


class KubernetesRuntimeConfig(KubernetesOptions):
    """A cluster (its kubeconfig, or the in-cluster service account) and the options above."""

    model_config = ConfigDict(frozen=True)

    kubeconfig: SecretStr | None = Field(
        default=None, description="kubeconfig YAML; None: the in-cluster service account"
    )
    poll_interval: float = Field(default=0.5, gt=0)
