"""Stage runtimes: where a stage runs its apps.

``Runtime`` is the interface (deploy, status, instances, stop, stop_all, undeploy);
``LocalRuntime`` runs each app as a local uvicorn process, the embedded default.
"""

from __future__ import annotations

from oneclick.runtimes.local import LocalRuntime
from oneclick.runtimes.types import (
    AbortCheck,
    DeployRequest,
    DeployResult,
    InstanceStatus,
    ProgressCallback,
    Runtime,
)

__all__ = [
    "AbortCheck",
    "DeployRequest",
    "DeployResult",
    "InstanceStatus",
    "LocalRuntime",
    "ProgressCallback",
    "Runtime",
]
