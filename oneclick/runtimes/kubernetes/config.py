"""How a ``kubernetes`` stage reaches its cluster and shapes its workloads (a plain value; no
client import, so stage configurations can hold it cheaply)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"


class KubernetesRuntimeConfig(BaseModel):
    """A cluster, a namespace in it, and the shape of each app's Deployment there."""

    model_config = ConfigDict(frozen=True)

    kubeconfig: SecretStr | None = Field(
        default=None, description="kubeconfig YAML; None: the in-cluster service account"
    )
    context: str | None = Field(default=None, description="kubeconfig context; None: current")
    namespace: str = Field(default="default", pattern=DNS_LABEL)
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
    poll_interval: float = Field(default=0.5, gt=0)
