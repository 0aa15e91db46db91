"""A stage's configuration as a plain value, and the checks a release must pass to run there.

Flows turn the Prefect ``Stage`` block into a ``StageConfig``; the engine only sees this.
Settings and secrets are kept per app: ``settings["expenses"]["ApprovalLimit"] = "500"``.
``registry`` is where the stage's images are pushed and pulled (None: the OCI layout under
the oneclick home, which only the ``local`` runtime can run); ``docker`` says how a
``docker`` stage reaches its engine, ``kubernetes`` a ``kubernetes`` stage its cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr

from oneclick.errors import StageError
from oneclick.policies import PromotionPolicy
from oneclick.registry import RegistryConfig
from oneclick.runtimes.docker_config import DockerRuntimeConfig
from oneclick.runtimes.kubernetes.config import KubernetesRuntimeConfig

SETTING_PREFIX = "ONECLICK_SETTING_"
SECRET_PREFIX = "ONECLICK_SECRET_"
DATABASE_ENV = "ONECLICK_DATABASE_URL"

if TYPE_CHECKING:
    from oneclick.home import Home


class StageConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    order: int = 0
    runtime: Literal["local", "docker", "kubernetes"] = "local"
    database_url: SecretStr
    registry: RegistryConfig | None = None
    docker: DockerRuntimeConfig = DockerRuntimeConfig()
    kubernetes: KubernetesRuntimeConfig = KubernetesRuntimeConfig()
    settings: dict[str, dict[str, str]] = {}
    secrets: dict[str, dict[str, SecretStr]] = {}
    requires_approval: bool = False
    promotion: PromotionPolicy = PromotionPolicy()

    def database_url_for(self, app: str) -> str:
        return self.database_url.get_secret_value().replace("{app}", app)

    def missing_configuration(self, manifest: Mapping[str, Any]) -> list[str]:
        """What a release (its build manifest) needs that this stage does not provide."""
        app = manifest["app"]
        settings = self.settings.get(app, {})
        secrets = self.secrets.get(app, {})
        missing = [
            f"setting {s['name']}"
            for s in manifest.get("settings", [])
            if s.get("default") is None and s["name"] not in settings
        ]
        missing += [f"secret {name}" for name in manifest.get("secrets", []) if name not in secrets]
        return missing

    def environment(self, manifest: Mapping[str, Any]) -> dict[str, str]:
        """The process environment a release runs with on this stage (holds secret values)."""
        missing = self.missing_configuration(manifest)
        app = manifest["app"]
        if missing:
            raise StageError(
                f"stage {self.name!r} cannot run {app}: it lacks {', '.join(missing)}; "
                f"set them in the {self.name!r} stage block (settings/secrets under {app!r})"
            )
        env = {DATABASE_ENV: self.database_url_for(app)}
        declared = {s["name"] for s in manifest.get("settings", [])}
        for name, value in self.settings.get(app, {}).items():
            if name in declared:
                env[SETTING_PREFIX + name] = value
        for name in manifest.get("secrets", []):
            env[SECRET_PREFIX + name] = self.secrets[app][name].get_secret_value()
        return env


def stage_config(
    name: str, data: Mapping[str, Any], home: Home, registry: RegistryConfig | None
) -> StageConfig:
    """A stage block's fields, as JSON with the secrets revealed, as a ``StageConfig``: the one
    conversion, for the block itself and for commands reading blocks over the REST API."""
    secrets = data.get("secrets") or {}
    return StageConfig(
        name=name,
        order=data.get("order", 0),
        runtime=data.get("runtime", "local"),
        database_url=SecretStr(data.get("database_url") or home.stage_database_url(name)),
        registry=registry,
        docker=DockerRuntimeConfig.model_validate(data.get("docker") or {}),
        kubernetes=KubernetesRuntimeConfig(
            kubeconfig=data.get("kubeconfig"), **(data.get("kubernetes") or {})
        ),
        settings=data.get("settings") or {},
        secrets={
            app: {key: SecretStr(str(value)) for key, value in values.items()}
            for app, values in secrets.items()
        },
        requires_approval=bool(data.get("requires_approval")),
        promotion=PromotionPolicy.model_validate(data.get("promotion") or {}),
    )
