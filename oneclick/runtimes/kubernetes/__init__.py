"""The ``kubernetes`` stage runtime: Deployments, Services, ConfigMaps and Secrets applied
with server-side apply, rollouts watched and rolled back (``KubernetesRuntime``)."""

from __future__ import annotations

from oneclick.runtimes.kubernetes.config import KubernetesRuntimeConfig

__all__ = ["KubernetesRuntimeConfig"]
