"""The stage block: where and how an app runs in one stage (development, qa, production).

The block document's name is the stage's name. Settings and secrets are kept per app:
``settings = {"expenses": {"ApprovalLimit": "500"}}``; secrets likewise, stored encrypted
and shown obfuscated in the UI.
"""

from __future__ import annotations

from typing import Literal

from prefect.blocks.core import Block
from prefect.types import SecretDict
from pydantic import Field, SecretStr

from blocks.registry import Registry
from oneclick.errors import StageError
from oneclick.home import Home
from oneclick.policies import PromotionPolicy
from oneclick.registry import RegistryConfig
from oneclick.runtimes.docker_config import DockerRuntimeConfig
from oneclick.runtimes.kubernetes.config import KubernetesOptions
from oneclick.stages import StageConfig, stage_config


class Stage(Block):
    _block_type_name = "oneclick Stage"
    _block_type_slug = "oneclick-stage"
    _description = "A stage apps are published and promoted to: its runtime, database, settings."

    order: int = Field(
        default=0, description="Position in the promotion path: development 1, qa 2, production 3."
    )
    runtime: Literal["local", "docker", "kubernetes"] = Field(
        default="local",
        description=(
            "Where the stage runs apps: 'local' processes on this machine, 'docker' "
            "containers of the Docker engine below, or 'kubernetes' Deployments in the "
            "cluster below (both need a registry)."
        ),
    )
    registry: str = Field(
        default="",
        description=(
            "Name of the 'oneclick Registry' block images of this stage are pushed to and "
            "pulled from. Empty: an OCI layout under ONECLICK_HOME (local runtime only)."
        ),
    )
    docker: DockerRuntimeConfig = Field(
        default_factory=DockerRuntimeConfig,
        description="For runtime 'docker': the engine, network, port range and volumes.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the stage's database; '{app}' is replaced by the app's name. "
            "Empty: one SQLite file per app under ONECLICK_HOME/stages/<stage>/."
        ),
    )
    kubeconfig: SecretStr | None = Field(
        default=None,
        description=(
            "For runtime 'kubernetes': the kubeconfig YAML (kept secret). Empty: the service "
            "account of the pod the flow runs in."
        ),
    )
    kubernetes: KubernetesOptions = Field(
        default_factory=lambda: KubernetesOptions(),
        description="For runtime 'kubernetes': context, namespace, replicas, resources, deadline.",
    )
    settings: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Setting values per app: {app: {SettingName: value}}.",
    )
    secrets: SecretDict = Field(
        default_factory=lambda: SecretDict({}),
        description="Secret values per app: {app: {SecretName: value}}. Never logged.",
    )
    requires_approval: bool = Field(
        default=False, description="Promotions into this stage wait for a person's approval."
    )
    promotion: PromotionPolicy = Field(
        default_factory=lambda: PromotionPolicy(),
        description=(
            "Scheduled promotions into this stage: the source stage, schedules, apps, soak "
            "time; and the freezes and stop-the-line switch every promotion obeys."
        ),
    )

    def to_config(self, name: str, home: Home) -> StageConfig:
        data = self.model_dump(mode="json", context={"include_secrets": True})
        return stage_config(name, data, home, self._registry(name))

    def _registry(self, stage: str) -> RegistryConfig | None:
        if not self.registry:
            return None
        try:
            block = Registry.load(self.registry)
        except ValueError as exc:
            raise StageError(
                f"stage {stage!r} names the registry {self.registry!r}, which has no "
                f"'oneclick Registry' block: create one named {self.registry!r} in the Prefect "
                "UI (Blocks) or clear the stage's registry"
            ) from exc
        assert isinstance(block, Registry)
        return block.to_config()
